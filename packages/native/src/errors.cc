// Errors the addon throws. errors.h says what each helper builds; this file also holds the full
// Linux errno table, because Node's own (util.getSystemErrorMap) lacks the System V IPC errnos
// (ENOMSG, EIDRM) and libuv maps no EIDRM at all.
#include "errors.h"

#include <cerrno>
#include <climits>
#include <optional>
#include <string>

#include "args.h"
#include "export.h"

namespace rxipc {
namespace {

struct ErrnoInfo {
    const char* name;
    const char* description;
};

// Names and descriptions follow Node's util.getSystemErrorMap() (libuv's uv_strerror) where
// Node knows the errno, so `code` and the message match fs and net errors; the rest are
// glibc's strerror(3) texts with a lowercase first letter. Aliases that share a number
// (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK, EOPNOTSUPP = ENOTSUP) take Node's name.
ErrnoInfo Lookup(int err) {
    switch (err) {
        case EPERM:
            return {"EPERM", "operation not permitted"};
        case ENOENT:
            return {"ENOENT", "no such file or directory"};
        case ESRCH:
            return {"ESRCH", "no such process"};
        case EINTR:
            return {"EINTR", "interrupted system call"};
        case EIO:
            return {"EIO", "i/o error"};
        case ENXIO:
            return {"ENXIO", "no such device or address"};
        case E2BIG:
            return {"E2BIG", "argument list too long"};
        case ENOEXEC:
            return {"ENOEXEC", "exec format error"};
        case EBADF:
            return {"EBADF", "bad file descriptor"};
        case ECHILD:
            return {"ECHILD", "no child processes"};
        case EAGAIN:
            return {"EAGAIN", "resource temporarily unavailable"};
        case ENOMEM:
            return {"ENOMEM", "not enough memory"};
        case EACCES:
            return {"EACCES", "permission denied"};
        case EFAULT:
            return {"EFAULT", "bad address in system call argument"};
        case ENOTBLK:
            return {"ENOTBLK", "block device required"};
        case EBUSY:
            return {"EBUSY", "resource busy or locked"};
        case EEXIST:
            return {"EEXIST", "file already exists"};
        case EXDEV:
            return {"EXDEV", "cross-device link not permitted"};
        case ENODEV:
            return {"ENODEV", "no such device"};
        case ENOTDIR:
            return {"ENOTDIR", "not a directory"};
        case EISDIR:
            return {"EISDIR", "illegal operation on a directory"};
        case EINVAL:
            return {"EINVAL", "invalid argument"};
        case ENFILE:
            return {"ENFILE", "file table overflow"};
        case EMFILE:
            return {"EMFILE", "too many open files"};
        case ENOTTY:
            return {"ENOTTY", "inappropriate ioctl for device"};
        case ETXTBSY:
            return {"ETXTBSY", "text file is busy"};
        case EFBIG:
            return {"EFBIG", "file too large"};
        case ENOSPC:
            return {"ENOSPC", "no space left on device"};
        case ESPIPE:
            return {"ESPIPE", "invalid seek"};
        case EROFS:
            return {"EROFS", "read-only file system"};
        case EMLINK:
            return {"EMLINK", "too many links"};
        case EPIPE:
            return {"EPIPE", "broken pipe"};
        case EDOM:
            return {"EDOM", "numerical argument out of domain"};
        case ERANGE:
            return {"ERANGE", "result too large"};
        case EDEADLK:
            return {"EDEADLK", "resource deadlock avoided"};
        case ENAMETOOLONG:
            return {"ENAMETOOLONG", "name too long"};
        case ENOLCK:
            return {"ENOLCK", "no locks available"};
        case ENOSYS:
            return {"ENOSYS", "function not implemented"};
        case ENOTEMPTY:
            return {"ENOTEMPTY", "directory not empty"};
        case ELOOP:
            return {"ELOOP", "too many symbolic links encountered"};
        case ENOMSG:
            return {"ENOMSG", "no message of desired type"};
        case EIDRM:
            return {"EIDRM", "identifier removed"};
        case ECHRNG:
            return {"ECHRNG", "channel number out of range"};
        case EL2NSYNC:
            return {"EL2NSYNC", "level 2 not synchronized"};
        case EL3HLT:
            return {"EL3HLT", "level 3 halted"};
        case EL3RST:
            return {"EL3RST", "level 3 reset"};
        case ELNRNG:
            return {"ELNRNG", "link number out of range"};
        case EUNATCH:
            return {"EUNATCH", "protocol driver not attached"};
        case ENOCSI:
            return {"ENOCSI", "no CSI structure available"};
        case EL2HLT:
            return {"EL2HLT", "level 2 halted"};
        case EBADE:
            return {"EBADE", "invalid exchange"};
        case EBADR:
            return {"EBADR", "invalid request descriptor"};
        case EXFULL:
            return {"EXFULL", "exchange full"};
        case ENOANO:
            return {"ENOANO", "no anode"};
        case EBADRQC:
            return {"EBADRQC", "invalid request code"};
        case EBADSLT:
            return {"EBADSLT", "invalid slot"};
        case EBFONT:
            return {"EBFONT", "bad font file format"};
        case ENOSTR:
            return {"ENOSTR", "device not a stream"};
        case ENODATA:
            return {"ENODATA", "no data available"};
        case ETIME:
            return {"ETIME", "timer expired"};
        case ENOSR:
            return {"ENOSR", "out of streams resources"};
        case ENONET:
            return {"ENONET", "machine is not on the network"};
        case ENOPKG:
            return {"ENOPKG", "package not installed"};
        case EREMOTE:
            return {"EREMOTE", "object is remote"};
        case ENOLINK:
            return {"ENOLINK", "link has been severed"};
        case EADV:
            return {"EADV", "advertise error"};
        case ESRMNT:
            return {"ESRMNT", "srmount error"};
        case ECOMM:
            return {"ECOMM", "communication error on send"};
        case EPROTO:
            return {"EPROTO", "protocol error"};
        case EMULTIHOP:
            return {"EMULTIHOP", "multihop attempted"};
        case EDOTDOT:
            return {"EDOTDOT", "RFS specific error"};
        case EBADMSG:
            return {"EBADMSG", "bad message"};
        case EOVERFLOW:
            return {"EOVERFLOW", "value too large for defined data type"};
        case ENOTUNIQ:
            return {"ENOTUNIQ", "name not unique on network"};
        case EBADFD:
            return {"EBADFD", "file descriptor in bad state"};
        case EREMCHG:
            return {"EREMCHG", "remote address changed"};
        case ELIBACC:
            return {"ELIBACC", "can not access a needed shared library"};
        case ELIBBAD:
            return {"ELIBBAD", "accessing a corrupted shared library"};
        case ELIBSCN:
            return {"ELIBSCN", ".lib section in a.out corrupted"};
        case ELIBMAX:
            return {"ELIBMAX", "attempting to link in too many shared libraries"};
        case ELIBEXEC:
            return {"ELIBEXEC", "cannot exec a shared library directly"};
        case EILSEQ:
            return {"EILSEQ", "illegal byte sequence"};
        case ERESTART:
            return {"ERESTART", "interrupted system call should be restarted"};
        case ESTRPIPE:
            return {"ESTRPIPE", "streams pipe error"};
        case EUSERS:
            return {"EUSERS", "too many users"};
        case ENOTSOCK:
            return {"ENOTSOCK", "socket operation on non-socket"};
        case EDESTADDRREQ:
            return {"EDESTADDRREQ", "destination address required"};
        case EMSGSIZE:
            return {"EMSGSIZE", "message too long"};
        case EPROTOTYPE:
            return {"EPROTOTYPE", "protocol wrong type for socket"};
        case ENOPROTOOPT:
            return {"ENOPROTOOPT", "protocol not available"};
        case EPROTONOSUPPORT:
            return {"EPROTONOSUPPORT", "protocol not supported"};
        case ESOCKTNOSUPPORT:
            return {"ESOCKTNOSUPPORT", "socket type not supported"};
        case ENOTSUP:
            return {"ENOTSUP", "operation not supported on socket"};
        case EPFNOSUPPORT:
            return {"EPFNOSUPPORT", "protocol family not supported"};
        case EAFNOSUPPORT:
            return {"EAFNOSUPPORT", "address family not supported"};
        case EADDRINUSE:
            return {"EADDRINUSE", "address already in use"};
        case EADDRNOTAVAIL:
            return {"EADDRNOTAVAIL", "address not available"};
        case ENETDOWN:
            return {"ENETDOWN", "network is down"};
        case ENETUNREACH:
            return {"ENETUNREACH", "network is unreachable"};
        case ENETRESET:
            return {"ENETRESET", "network dropped connection on reset"};
        case ECONNABORTED:
            return {"ECONNABORTED", "software caused connection abort"};
        case ECONNRESET:
            return {"ECONNRESET", "connection reset by peer"};
        case ENOBUFS:
            return {"ENOBUFS", "no buffer space available"};
        case EISCONN:
            return {"EISCONN", "socket is already connected"};
        case ENOTCONN:
            return {"ENOTCONN", "socket is not connected"};
        case ESHUTDOWN:
            return {"ESHUTDOWN", "cannot send after transport endpoint shutdown"};
        case ETOOMANYREFS:
            return {"ETOOMANYREFS", "too many references: cannot splice"};
        case ETIMEDOUT:
            return {"ETIMEDOUT", "connection timed out"};
        case ECONNREFUSED:
            return {"ECONNREFUSED", "connection refused"};
        case EHOSTDOWN:
            return {"EHOSTDOWN", "host is down"};
        case EHOSTUNREACH:
            return {"EHOSTUNREACH", "host is unreachable"};
        case EALREADY:
            return {"EALREADY", "connection already in progress"};
        case EINPROGRESS:
            return {"EINPROGRESS", "operation now in progress"};
        case ESTALE:
            return {"ESTALE", "stale file handle"};
        case EUCLEAN:
            return {"EUCLEAN", "structure needs cleaning"};
        case ENOTNAM:
            return {"ENOTNAM", "not a XENIX named type file"};
        case ENAVAIL:
            return {"ENAVAIL", "no XENIX semaphores available"};
        case EISNAM:
            return {"EISNAM", "is a named type file"};
        case EREMOTEIO:
            return {"EREMOTEIO", "remote I/O error"};
        case EDQUOT:
            return {"EDQUOT", "disk quota exceeded"};
        case ENOMEDIUM:
            return {"ENOMEDIUM", "no medium found"};
        case EMEDIUMTYPE:
            return {"EMEDIUMTYPE", "wrong medium type"};
        case ECANCELED:
            return {"ECANCELED", "operation canceled"};
        case ENOKEY:
            return {"ENOKEY", "required key not available"};
        case EKEYEXPIRED:
            return {"EKEYEXPIRED", "key has expired"};
        case EKEYREVOKED:
            return {"EKEYREVOKED", "key has been revoked"};
        case EKEYREJECTED:
            return {"EKEYREJECTED", "key was rejected by service"};
        case EOWNERDEAD:
            return {"EOWNERDEAD", "owner died"};
        case ENOTRECOVERABLE:
            return {"ENOTRECOVERABLE", "state not recoverable"};
        case ERFKILL:
            return {"ERFKILL", "operation not possible due to RF-kill"};
#ifdef EHWPOISON
        case EHWPOISON:
            return {"EHWPOISON", "memory page has hardware error"};
#endif
        default:
            return {"UNKNOWN", "unknown error"};
    }
}

const char* TypeofName(Napi::Value value) {
    switch (value.Type()) {
        case napi_undefined:
            return "undefined";
        case napi_null:
            return "null";
        case napi_boolean:
            return "boolean";
        case napi_number:
            return "number";
        case napi_string:
            return "string";
        case napi_symbol:
            return "symbol";
        case napi_object:
            return "object";
        case napi_function:
            return "function";
        case napi_external:
            return "object";  // what `typeof` says of an external
        case napi_bigint:
            return "bigint";
    }
    return "unknown";
}

// errno arrives negative from Node errors and positive from C; both name the same error.
int Magnitude(int err) { return err < 0 ? -err : err; }

}  // namespace

const char* ErrnoName(int err) { return Lookup(Magnitude(err)).name; }

void SetCode(Napi::Error& error, const char* code) {
    error.Value().Set("code", Napi::String::New(error.Env(), code));
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const char* path,
                       const char* hint) {
    int positive = Magnitude(err);
    ErrnoInfo info = Lookup(positive);

    // Node's order: "CODE: description, syscall 'path'", then our hint in parentheses.
    std::string message = std::string(info.name) + ": " + info.description + ", " + syscall;
    if (path != nullptr) message += std::string(" '") + path + "'";
    if (hint != nullptr) message += std::string(" (") + hint + ")";

    Napi::Error error = Napi::Error::New(env, message);
    Napi::Object object = error.Value();
    // Same property order as Node's fs errors: errno, code, syscall, path.
    object.Set("errno", Napi::Number::New(env, -positive));
    object.Set("code", Napi::String::New(env, info.name));
    object.Set("syscall", Napi::String::New(env, syscall));
    if (path != nullptr) object.Set("path", Napi::String::New(env, path));
    return error;
}

Napi::TypeError ArgTypeError(Napi::Env env, const char* name, const char* expected,
                             Napi::Value received) {
    // The received value itself is not printed: turning a Proxy or a 10 MB string into text
    // would run user code or allocate without need. Its type is enough to act on.
    std::string what = received.IsNull() ? std::string("Received null")
                                         : std::string("Received type ") + TypeofName(received);
    Napi::TypeError error = Napi::TypeError::New(
        env, std::string("The \"") + name + "\" argument must be " + expected + ". " + what);
    SetCode(error, "ERR_INVALID_ARG_TYPE");
    return error;
}

Napi::RangeError ArgRangeError(Napi::Env env, const char* name, const std::string& must,
                               const std::string& received) {
    Napi::RangeError error = Napi::RangeError::New(env, std::string("The value of \"") + name +
                                                            "\" is out of range. It must be " +
                                                            must + ". Received " + received);
    SetCode(error, "ERR_OUT_OF_RANGE");
    return error;
}

Napi::TypeError BadHandleError(Napi::Env env, const char* name, const char* expected,
                               const std::string& received) {
    Napi::TypeError error =
        Napi::TypeError::New(env, std::string("The \"") + name + "\" argument must be " + expected +
                                      ". Received " + received);
    SetCode(error, "ERR_RXIPC_BAD_HANDLE");
    return error;
}

}  // namespace rxipc

// ---- JS exports -----------------------------------------------------------------------------

namespace rxipc {
namespace {

/* errnoName(errno: number): string
   The symbolic name of an errno value, from the table above: 11 -> 'EAGAIN', 42 -> 'ENOMSG'.
   Negative values (Node's err.errno) name the same error. Unknown values give 'UNKNOWN'.
   TypeError for a non-number, RangeError for a non-integer or one beyond ±(2^53-1). */
Napi::Value ErrnoNameJs(const Napi::CallbackInfo& info) {
    int64_t err = IntegerArg(info, 0, "errno", -kMaxSafeInteger, kMaxSafeInteger);
    bool in_int = err >= -INT_MAX && err <= INT_MAX;
    return Napi::String::New(info.Env(), in_int ? ErrnoName(static_cast<int>(err)) : "UNKNOWN");
}

/* systemError(errno: number, syscall: string, path?: string, hint?: string): SystemError
   Builds (does not throw) the error the addon would throw for `errno` in `syscall`, so that
   TypeScript code can produce the same shape. errno may be given in either sign; the result's
   `errno` is negative. Values outside the table give code 'UNKNOWN'. */
Napi::Value SystemErrorJs(const Napi::CallbackInfo& info) {
    int64_t err = IntegerArg(info, 0, "errno", -INT_MAX, INT_MAX);
    std::string syscall = StringArg(info, 1, "syscall");
    std::optional<std::string> path = OptionalStringArg(info, 2, "path");
    std::optional<std::string> hint = OptionalStringArg(info, 3, "hint");
    return ErrnoError(info.Env(), static_cast<int>(err), syscall.c_str(),
                      path ? path->c_str() : nullptr, hint ? hint->c_str() : nullptr)
        .Value();
}

}  // namespace

void ExportErrors(Napi::Env env, Napi::Object exports) {
    SetFunction<ErrnoNameJs>(env, exports, "errnoName");
    SetFunction<SystemErrorJs>(env, exports, "systemError");
}

}  // namespace rxipc
