// Unix domain sockets (unix(7)): stream, datagram and seqpacket; socket, socketpair, bind,
// listen, accept4 and connect, all non-blocking; peer credentials (SO_PEERCRED); sendmsg and
// recvmsg with descriptors (SCM_RIGHTS) and credentials (SCM_CREDENTIALS); shutdown; the
// socket's own address; buffer sizes. A socket is a descriptor, so every function takes or
// returns the same FdHandle as pipes do, and fdRead/fdWritev/fdWatch work on it too.
//
// Addresses are strings, as the TypeScript layer spells them after parsing a URI:
//   "/run/app.sock"  a path in the file system (absolute: relative paths are refused)
//   "\0name"         a name in Linux's abstract namespace (the bytes after the NUL)
//   ""               no name: socketBind asks the kernel for an abstract one (autobind)
// Received addresses (socketName, socketRecvmsg) come back in the same form; an unnamed peer
// is "". Names are converted as UTF-8 both ways.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "export.h"
#include "fd.h"

namespace rxipc {
namespace {

// unix(7): "a fixed size of 108 bytes" for sun_path, NUL included for a path name.
constexpr size_t kSunPathSize = sizeof(sockaddr_un{}.sun_path);
// The most descriptors one SCM_RIGHTS message may carry (SCM_MAX_FD in the kernel).
constexpr int kMaxFds = 253;

struct Address {
    sockaddr_un addr{};
    socklen_t length = 0;
    std::string display;  // for errors: the path, or "@name" for an abstract name
};

Napi::TypeError ValueError(Napi::Env env, const std::string& message) {
    Napi::TypeError error = Napi::TypeError::New(env, message);
    SetCode(error, "ERR_INVALID_ARG_VALUE");
    return error;
}

// Parses an address string (see the top of this file). A path too long for sun_path is an
// ENAMETOOLONG system error of `syscall`, since that is what the kernel would say.
Address ParseAddress(Napi::Env env, const std::string& text, const char* name,
                     const char* syscall) {
    Address address;
    address.addr.sun_family = AF_UNIX;
    if (text.empty()) {
        address.length = offsetof(sockaddr_un, sun_path);
        return address;
    }
    if (text[0] == '\0') {
        size_t bytes = text.size() - 1;
        address.display = "@" + text.substr(1);
        if (bytes > kSunPathSize - 1) {
            std::string hint = "an abstract socket name holds at most " +
                               std::to_string(kSunPathSize - 1) + " bytes";
            throw ErrnoError(env, ENAMETOOLONG, syscall, address.display.c_str(), hint.c_str());
        }
        std::memcpy(address.addr.sun_path, text.data(), text.size());
        address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size());
        return address;
    }
    if (text[0] != '/' || text.find('\0') != std::string::npos) {
        throw ValueError(env, std::string("The \"") + name +
                                  "\" argument must be an absolute path, \"\\0\" and an abstract "
                                  "name, or \"\" (no NUL bytes inside a path)");
    }
    address.display = text;
    if (text.size() > kSunPathSize - 1) {
        std::string hint = "a Unix socket path holds at most " + std::to_string(kSunPathSize - 1) +
                           " bytes, this one has " + std::to_string(text.size()) +
                           "; use a shorter path or an abstract name (unix:@name)";
        throw ErrnoError(env, ENAMETOOLONG, syscall, address.display.c_str(), hint.c_str());
    }
    std::memcpy(address.addr.sun_path, text.data(), text.size());
    address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
    return address;
}

// The string form of an address the kernel filled in.
Napi::String AddressString(Napi::Env env, const sockaddr_un& addr, socklen_t length) {
    size_t header = offsetof(sockaddr_un, sun_path);
    if (length <= header || addr.sun_family != AF_UNIX) return Napi::String::New(env, "");
    size_t bytes = std::min<size_t>(length - header, kSunPathSize);
    if (addr.sun_path[0] == '\0') return Napi::String::New(env, addr.sun_path, bytes);
    return Napi::String::New(env, addr.sun_path, strnlen(addr.sun_path, bytes));
}

int SocketTypeArg(const Napi::CallbackInfo& info, size_t index) {
    std::string type = StringArg(info, index, "type");
    if (type == "stream") return SOCK_STREAM;
    if (type == "dgram") return SOCK_DGRAM;
    if (type == "seqpacket") return SOCK_SEQPACKET;
    throw ValueError(info.Env(),
                     "The \"type\" argument must be one of 'stream', 'dgram', 'seqpacket'");
}

// The send buffer's size, for the EMSGSIZE hint; 0 if it cannot be read.
int SendBufferSize(int fd) {
    int size = 0;
    socklen_t length = sizeof size;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &length) == -1) return 0;
    return size;
}

// EMSGSIZE from a send: name the limit. unix_dgram_sendmsg refuses "len > sk->sk_sndbuf - 32".
Napi::Error SendError(Napi::Env env, int err, const char* syscall, int fd, size_t bytes) {
    if (err != EMSGSIZE) return ErrnoError(env, err, syscall);
    int sndbuf = SendBufferSize(fd);
    std::string hint = "a message of " + std::to_string(bytes) +
                       " bytes is more than this socket sends at once: at most " +
                       std::to_string(std::max(0, sndbuf - 32)) + " bytes (SO_SNDBUF " +
                       std::to_string(sndbuf) +
                       " minus 32); raise sndbuf (up to /proc/sys/net/core/wmem_max) or use a "
                       "stream socket";
    return ErrnoError(env, err, syscall, nullptr, hint.c_str());
}

// Hints for the errors a connect or bind meets most.
const char* ConnectHint(int err) {
    switch (err) {
        case ECONNREFUSED:
            return "nothing accepts connections on this address (a stale socket file?)";
        case ENOENT:
            return "no socket at this path; is the server running?";
        case EACCES:
            return "connecting needs write permission on the socket file";
        case EPROTOTYPE:
            return "the socket at this address is of another type (stream, dgram, seqpacket)";
        default:
            return nullptr;
    }
}

// Wraps the descriptors of a socketpair or of received SCM_RIGHTS as handles; if wrapping
// fails midway, the ones not yet wrapped are closed (the wrapped ones belong to their
// handles).
Napi::Array WrapFds(Napi::Env env, const std::vector<int>& fds) {
    Napi::Array array = Napi::Array::New(env, fds.size());
    for (size_t i = 0; i < fds.size(); i++) {
        try {
            array.Set(static_cast<uint32_t>(i), NewFdHandle(env, fds[i]));
        } catch (...) {
            for (size_t j = i + 1; j < fds.size(); j++) close(fds[j]);
            throw;
        }
    }
    return array;
}

/* socket(type: 'stream' | 'dgram' | 'seqpacket'): FdHandle
   socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0). Errors (syscall 'socket'): EMFILE,
   ENFILE, ENOBUFS. */
Napi::Value Socket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int type = SocketTypeArg(info, 0);
    int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) throw ErrnoError(env, errno, "socket");
    return NewFdHandle(env, fd);
}

/* socketpair(type: 'stream' | 'dgram' | 'seqpacket'): [FdHandle, FdHandle]
   socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC): two connected sockets, each owned
   by its handle. Errors (syscall 'socketpair'): EMFILE, ENFILE. */
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int type = SocketTypeArg(info, 0);
    int fds[2];
    if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == -1) {
        throw ErrnoError(env, errno, "socketpair");
    }
    return WrapFds(env, {fds[0], fds[1]});
}

/* socketBind(handle: FdHandle, address: string): void
   bind(2) to a path, an abstract name, or (for "") a kernel-chosen abstract name (autobind).
   A path is created as a socket file with the socket's mode narrowed by the umask (fchmod the
   socket first to choose it). Errors (syscall 'bind', with the address): EADDRINUSE when the
   path or name is taken, ENOENT/EACCES for the directory, ENAMETOOLONG, EINVAL when already
   bound, ENOTSOCK. */
Napi::Value SocketBind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string text = StringArg(info, 1, "address");
    Address address = ParseAddress(env, text, "address", "bind");
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (bind(fd.fd(), reinterpret_cast<sockaddr*>(&address.addr), address.length) == -1) {
        const char* hint =
            errno == EADDRINUSE ? "another socket (or file) already has this address" : nullptr;
        throw ErrnoError(env, errno, "bind", address.display.c_str(), hint);
    }
    return env.Undefined();
}

/* socketListen(handle: FdHandle, backlog: number): void
   listen(2) with a backlog of 0 .. 65535 (the kernel caps it at net.core.somaxconn). Errors
   (syscall 'listen'): EOPNOTSUPP for a datagram socket, EINVAL when not bound, ENOTSOCK. */
Napi::Value SocketListen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int backlog = static_cast<int>(IntegerArg(info, 1, "backlog", 0, 65535));
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (listen(fd.fd(), backlog) == -1) throw ErrnoError(env, errno, "listen");
    return env.Undefined();
}

/* socketAccept(handle: FdHandle): FdHandle | null
   accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the next connection, owned by the new handle,
   or null when none is waiting (EAGAIN). EINTR is retried. Errors (syscall 'accept4'): EMFILE,
   ENFILE, EINVAL when not listening, ENOTSOCK, EOPNOTSUPP. */
Napi::Value SocketAccept(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    int client;
    do {
        client = accept4(fd.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (client == -1 && errno == EINTR);
    if (client == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (client == -1) throw ErrnoError(env, errno, "accept4");
    return NewFdHandle(env, client);
}

/* socketConnect(handle: FdHandle, address: string): boolean
   connect(2) without waiting: true when connected, false when the connection cannot be made
   now (EAGAIN: a Unix listener's backlog is full; try again later) or is under way
   (EINPROGRESS). Errors (syscall 'connect', with the address, and a hint): ECONNREFUSED when
   nothing listens, ENOENT, EACCES, EPROTOTYPE for a socket of another type, ENAMETOOLONG,
   EISCONN. */
Napi::Value SocketConnect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string text = StringArg(info, 1, "address");
    if (text.empty()) throw ValueError(env, "The \"address\" argument must name a socket");
    Address address = ParseAddress(env, text, "address", "connect");
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    int result;
    do {
        result = connect(fd.fd(), reinterpret_cast<sockaddr*>(&address.addr), address.length);
    } while (result == -1 && errno == EINTR);
    if (result == 0) return Napi::Boolean::New(env, true);
    if (errno == EAGAIN || errno == EINPROGRESS) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "connect", address.display.c_str(), ConnectHint(errno));
}

/* socketName(handle: FdHandle): string
   getsockname(2): the socket's own address ("" when unnamed; "\0xxxxx" after autobind).
   Errors (syscall 'getsockname'): ENOTSOCK. */
Napi::Value SocketName(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    sockaddr_un addr{};
    socklen_t length = sizeof addr;
    if (getsockname(fd.fd(), reinterpret_cast<sockaddr*>(&addr), &length) == -1) {
        throw ErrnoError(env, errno, "getsockname");
    }
    return AddressString(env, addr, length);
}

Napi::Object Credentials(Napi::Env env, const ucred& cred) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("pid", Napi::Number::New(env, cred.pid));
    result.Set("uid", Napi::Number::New(env, cred.uid));
    result.Set("gid", Napi::Number::New(env, cred.gid));
    return result;
}

/* socketPeerCred(handle: FdHandle): { pid: number; uid: number; gid: number }
   getsockopt(SO_PEERCRED): who is at the other end of a connected stream or seqpacket socket,
   as the kernel recorded it at connect(2) (or listen(2), seen from a client). A datagram or
   unconnected socket reports pid 0 and uid/gid 4294967295 ((uid_t)-1), as the kernel fills
   them. Errors (syscall 'getsockopt'): ENOTSOCK. */
Napi::Value SocketPeerCred(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    ucred cred{};
    socklen_t length = sizeof cred;
    if (getsockopt(fd.fd(), SOL_SOCKET, SO_PEERCRED, &cred, &length) == -1) {
        throw ErrnoError(env, errno, "getsockopt");
    }
    return Credentials(env, cred);
}

// The options socketGetOption and socketSetOption know, by name.
int OptionArg(const Napi::CallbackInfo& info, size_t index, bool for_set) {
    std::string name = StringArg(info, index, "name");
    if (name == "SO_SNDBUF") return SO_SNDBUF;
    if (name == "SO_RCVBUF") return SO_RCVBUF;
    if (name == "SO_PASSCRED") return SO_PASSCRED;
    if (!for_set && name == "SO_TYPE") return SO_TYPE;
    if (!for_set && name == "SO_ERROR") return SO_ERROR;
    throw ValueError(info.Env(),
                     for_set ? "The \"name\" argument must be one of 'SO_SNDBUF', 'SO_RCVBUF', "
                               "'SO_PASSCRED'"
                             : "The \"name\" argument must be one of 'SO_SNDBUF', 'SO_RCVBUF', "
                               "'SO_PASSCRED', 'SO_TYPE', 'SO_ERROR'");
}

/* socketGetOption(handle: FdHandle, name: 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_PASSCRED' | 'SO_TYPE'
   | 'SO_ERROR'): number
   getsockopt(SOL_SOCKET, name) as an integer. Buffer sizes read back doubled, as socket(7)
   says ("the kernel doubles this value"). SO_TYPE gives SOCK_STREAM 1, SOCK_DGRAM 2,
   SOCK_SEQPACKET 5. Errors (syscall 'getsockopt'): ENOTSOCK. */
Napi::Value SocketGetOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int option = OptionArg(info, 1, false);
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    int value = 0;
    socklen_t length = sizeof value;
    if (getsockopt(fd.fd(), SOL_SOCKET, option, &value, &length) == -1) {
        throw ErrnoError(env, errno, "getsockopt");
    }
    return Napi::Number::New(env, value);
}

/* socketSetOption(handle: FdHandle, name: 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_PASSCRED',
   value: number): void
   setsockopt(SOL_SOCKET, name, value) with value 0 .. 2^31-1. The kernel caps buffer sizes at
   /proc/sys/net/core/{w,r}mem_max silently. Errors (syscall 'setsockopt'): ENOTSOCK. */
Napi::Value SocketSetOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int option = OptionArg(info, 1, true);
    int value = static_cast<int>(IntegerArg(info, 2, "value", 0, INT_MAX));
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (setsockopt(fd.fd(), SOL_SOCKET, option, &value, sizeof value) == -1) {
        throw ErrnoError(env, errno, "setsockopt");
    }
    return env.Undefined();
}

/* socketShutdown(handle: FdHandle, how: 'read' | 'write' | 'both'): void
   shutdown(2). 'write' is how a stream or seqpacket peer sees end of stream while this side
   keeps reading. Errors (syscall 'shutdown'): ENOTCONN, ENOTSOCK. */
Napi::Value SocketShutdown(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string how = StringArg(info, 1, "how");
    int value;
    if (how == "read") {
        value = SHUT_RD;
    } else if (how == "write") {
        value = SHUT_WR;
    } else if (how == "both") {
        value = SHUT_RDWR;
    } else {
        throw ValueError(env, "The \"how\" argument must be one of 'read', 'write', 'both'");
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (shutdown(fd.fd(), value) == -1) throw ErrnoError(env, errno, "shutdown");
    return env.Undefined();
}

/* socketSend(handle: FdHandle, message: ArrayBufferView): number | null
   send(2) of one message with MSG_DONTWAIT | MSG_NOSIGNAL: the bytes sent (all of them on a
   datagram or seqpacket socket, where a message goes whole or not at all), or null when it
   does not fit now (EAGAIN). EINTR is retried. Errors (syscall 'send'): EMSGSIZE with a hint
   naming the socket's limit (SO_SNDBUF), EPIPE/ECONNRESET when the peer is gone,
   ECONNREFUSED, ENOTCONN, EDESTADDRREQ. */
Napi::Value SocketSend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes bytes = ViewBytes(env, info[1], "message");
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    ssize_t n;
    do {
        n = send(fd.fd(), bytes.data, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw SendError(env, errno, "send", fd.fd(), bytes.length);
    return Napi::Number::New(env, static_cast<double>(n));
}

/* socketSendmmsg(handle: FdHandle, messages: readonly ArrayBufferView[], start: number,
   end: number): number | null
   sendmmsg(2) of messages[start .. end), one message per view (at most IOV_MAX = 1024 per
   call; more is a RangeError), with MSG_DONTWAIT | MSG_NOSIGNAL: how many the kernel took,
   or null when it took none (EAGAIN). On a datagram or seqpacket socket each message goes
   whole or not at all; one system call for a batch is what makes small messages cheap. An
   error on the first message throws it (EMSGSIZE with the SO_SNDBUF hint, EPIPE,
   ECONNREFUSED...); an error after some were sent returns their count, and the next call
   meets the error again. Errors (syscall 'sendmmsg'). */
Napi::Value SocketSendmmsg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value value = info[1];
    if (!value.IsArray()) {
        throw ArgTypeError(env, "messages", "an array of ArrayBufferView", value);
    }
    Napi::Array array = value.As<Napi::Array>();
    uint32_t length = array.Length();
    auto start = static_cast<uint32_t>(IntegerArg(info, 2, "start", 0, length));
    auto end = static_cast<uint32_t>(IntegerArg(info, 3, "end", start, length));
    if (end - start > IOV_MAX) {
        throw ArgRangeError(env, "end - start", "<= " + std::to_string(IOV_MAX),
                            std::to_string(end - start));
    }
    // Elements first (getters may run), then pointers, then the handle (see fdWritev).
    std::vector<Napi::Value> values;
    values.reserve(end - start);
    for (uint32_t i = start; i < end; i++) values.push_back(array.Get(i));
    std::vector<iovec> iov(values.size());
    std::vector<mmsghdr> headers(values.size());
    for (size_t i = 0; i < values.size(); i++) {
        std::string name = "messages[" + std::to_string(start + i) + "]";
        Bytes bytes = ViewBytes(env, values[i], name.c_str());
        iov[i] = {bytes.data, bytes.length};
        headers[i] = {};
        headers[i].msg_hdr.msg_iov = &iov[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (headers.empty()) return Napi::Number::New(env, 0);

    int n;
    do {
        n = sendmmsg(fd.fd(), headers.data(), static_cast<unsigned>(headers.size()),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw SendError(env, errno, "sendmmsg", fd.fd(), iov[0].iov_len);
    return Napi::Number::New(env, n);
}

/* socketRecv(handle: FdHandle, target: ArrayBufferView): number | null
   recv(2) of one message with MSG_DONTWAIT | MSG_TRUNC, for datagram and seqpacket sockets:
   the message's full length, which is more than target.byteLength when it did not fit (the
   rest is discarded by the kernel: only the first target.byteLength bytes are in target);
   null when none is waiting (EAGAIN). 0 is an empty datagram, or on a seqpacket socket either
   an empty message or end of stream (recv(2) cannot tell them apart). EINTR is retried.
   Errors (syscall 'recv'): ECONNRESET, ENOTCONN, ENOTSOCK. */
Napi::Value SocketRecv(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes target = ViewBytes(env, info[1], "target");
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    ssize_t n;
    do {
        n = recv(fd.fd(), target.data, target.length, MSG_DONTWAIT | MSG_TRUNC);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "recv");
    return Napi::Number::New(env, static_cast<double>(n));
}

/* socketRecvmmsg(handle: FdHandle, target: ArrayBufferView, slotSize: number,
   lengths: Int32Array): number | null
   recvmmsg(2) with MSG_DONTWAIT | MSG_TRUNC, for datagram and seqpacket sockets: up to
   lengths.length messages (1 .. 1024) that are waiting now, message i into target's bytes
   [i * slotSize, (i + 1) * slotSize), its full length into lengths[i] (more than slotSize
   when it did not fit: the rest is gone). Returns how many arrived, or null when none was
   waiting (EAGAIN). One system call for a batch. RangeError when the slots do not fit in
   target. On seqpacket a length of 0 is an empty message or end of stream. Errors (syscall
   'recvmmsg'): ECONNRESET, ENOTSOCK. */
Napi::Value SocketRecvmmsg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto slot = static_cast<size_t>(IntegerArg(info, 2, "slotSize", 1, INT_MAX));
    Napi::Value lengths_value = info[3];
    if (!lengths_value.IsTypedArray() ||
        lengths_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw ArgTypeError(env, "lengths", "an Int32Array", lengths_value);
    }
    Bytes lengths = ViewBytes(env, lengths_value, "lengths");
    size_t count = lengths.length / sizeof(int32_t);
    if (count < 1 || count > IOV_MAX) {
        throw ArgRangeError(env, "lengths.length", "from 1 to " + std::to_string(IOV_MAX),
                            std::to_string(count));
    }
    Bytes target = ViewBytes(env, info[1], "target");
    if (target.length / slot < count) {
        throw ArgRangeError(env, "target.byteLength",
                            ">= lengths.length * slotSize (" + std::to_string(count * slot) + ")",
                            std::to_string(target.length));
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    std::vector<iovec> iov(count);
    std::vector<mmsghdr> headers(count);
    for (size_t i = 0; i < count; i++) {
        iov[i] = {static_cast<char*>(target.data) + i * slot, slot};
        headers[i] = {};
        headers[i].msg_hdr.msg_iov = &iov[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    int n;
    do {
        n = recvmmsg(fd.fd(), headers.data(), static_cast<unsigned>(count),
                     MSG_DONTWAIT | MSG_TRUNC, nullptr);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "recvmmsg");
    auto* out = static_cast<int32_t*>(lengths.data);
    for (int i = 0; i < n; i++) {
        out[i] = static_cast<int32_t>(std::min<size_t>(headers[i].msg_len, INT32_MAX));
    }
    return Napi::Number::New(env, n);
}

// The views of a chunks argument (one view, or an array of at most IOV_MAX), as iovecs.
// Reads array elements first (getters may run) and takes pointers after, as fdWritev does.
std::vector<iovec> ChunksArg(Napi::Env env, Napi::Value value, size_t* total) {
    std::vector<Napi::Value> values;
    if (value.IsArray()) {
        Napi::Array array = value.As<Napi::Array>();
        uint32_t length = array.Length();
        if (length > IOV_MAX) {
            throw ArgRangeError(env, "chunks.length", "<= " + std::to_string(IOV_MAX),
                                std::to_string(length));
        }
        values.reserve(length);
        for (uint32_t i = 0; i < length; i++) values.push_back(array.Get(i));
    } else {
        values.push_back(value);
    }
    std::vector<iovec> iov(values.size());
    *total = 0;
    for (size_t i = 0; i < values.size(); i++) {
        std::string name = "chunks[" + std::to_string(i) + "]";
        Bytes bytes = ViewBytes(env, values[i], name.c_str());
        iov[i] = {bytes.data, bytes.length};
        *total += bytes.length;
    }
    return iov;
}

/* socketSendmsg(handle: FdHandle, chunks: ArrayBufferView | readonly ArrayBufferView[],
   options?: { fds?: readonly (FdHandle | number)[]; address?: string }): number | null
   sendmsg(2) with MSG_DONTWAIT | MSG_NOSIGNAL: the views in order (at most IOV_MAX), to
   `address` when given (an unconnected datagram socket), with `fds` (at most 253, open
   handles or descriptor numbers) as SCM_RIGHTS. The descriptors stay owned by the caller: the
   kernel gives the peer its own duplicates. Returns the bytes sent (a stream socket may take
   part: the descriptors then went with that part), or null when nothing fits (EAGAIN; no
   descriptor was sent). Errors (syscall 'sendmsg'): EMSGSIZE (hint: SO_SNDBUF), EBADF for a
   closed descriptor number, EPIPE, ECONNREFUSED, ENOENT for a missing address, ETOOMANYREFS
   (descriptors in flight exceed RLIMIT_NOFILE). */
Napi::Value SocketSendmsg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // Options first: their getters may run user code (args.h).
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    std::vector<Napi::Value> fd_values;
    std::optional<std::string> address_text;
    if (options) {
        Napi::Value fds = options->Get("fds");
        if (!fds.IsUndefined()) {
            if (!fds.IsArray()) {
                throw ArgTypeError(env, "options.fds", "an array of FdHandle or number", fds);
            }
            Napi::Array array = fds.As<Napi::Array>();
            uint32_t length = array.Length();
            if (length > kMaxFds) {
                throw ArgRangeError(env, "options.fds.length", "<= " + std::to_string(kMaxFds),
                                    std::to_string(length));
            }
            for (uint32_t i = 0; i < length; i++) fd_values.push_back(array.Get(i));
        }
        Napi::Value address = options->Get("address");
        if (!address.IsUndefined()) {
            if (!address.IsString()) {
                throw ArgTypeError(env, "options.address", "of type string", address);
            }
            address_text = address.As<Napi::String>().Utf8Value();
        }
    }
    Address address;
    if (address_text) address = ParseAddress(env, *address_text, "options.address", "sendmsg");
    size_t total = 0;
    std::vector<iovec> iov = ChunksArg(env, info[1], &total);

    // No user code runs from here on.
    std::vector<int> fds;
    for (size_t i = 0; i < fd_values.size(); i++) {
        std::string name = "options.fds[" + std::to_string(i) + "]";
        Napi::Value value = fd_values[i];
        if (value.IsNumber()) {
            double number = value.As<Napi::Number>().DoubleValue();
            if (!(number >= 0 && number <= INT_MAX && number == static_cast<int>(number))) {
                throw ArgRangeError(env, name.c_str(), "a descriptor number (0 .. 2^31-1)",
                                    value.ToString().Utf8Value());
            }
            fds.push_back(static_cast<int>(number));
        } else {
            fds.push_back(
                static_cast<Fd&>(UnwrapAny(env, value, HandleKind::kFd, name.c_str(), false)).fd());
        }
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    msghdr msg{};
    if (address_text) {
        msg.msg_name = &address.addr;
        msg.msg_namelen = address.length;
    }
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    std::vector<char> control;
    if (!fds.empty()) {
        control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    do {
        n = sendmsg(fd.fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1 && address_text && errno != EMSGSIZE) {
        throw ErrnoError(env, errno, "sendmsg", address.display.c_str(), ConnectHint(errno));
    }
    if (n == -1) throw SendError(env, errno, "sendmsg", fd.fd(), total);
    return Napi::Number::New(env, static_cast<double>(n));
}

/* socketRecvmsg(handle: FdHandle, target: ArrayBufferView, options?: { maxFds?: number;
   address?: boolean; credentials?: boolean }): { length: number; truncated: boolean;
   fds: FdHandle[]; fdsTruncated: boolean; address?: string; credentials?: { pid: number;
   uid: number; gid: number } } | null
   recvmsg(2) with MSG_DONTWAIT | MSG_CMSG_CLOEXEC into target: `length` bytes arrived (0: end
   of stream on a stream socket, an empty datagram, or either on seqpacket); `truncated` when a
   datagram or seqpacket message was longer than target (the rest is discarded). Descriptors
   passed with SCM_RIGHTS (at most maxFds, 0 .. 253, default 0) come back as new handles the
   caller owns; they are close-on-exec, and the finalizer closes any that nobody closes.
   `fdsTruncated` says the peer sent more than maxFds (the kernel closed the rest). `address`
   asks for the sender's address ("" when unnamed), `credentials` for SCM_CREDENTIALS (sent by
   the kernel only while SO_PASSCRED is set). Null when nothing is waiting (EAGAIN). EINTR is
   retried. Errors (syscall 'recvmsg'): ECONNRESET, ENOTCONN, ENOTSOCK. */
Napi::Value SocketRecvmsg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    int max_fds = 0;
    if (options) {
        Napi::Value value = options->Get("maxFds");
        if (!value.IsUndefined()) {
            if (!value.IsNumber())
                throw ArgTypeError(env, "options.maxFds", "of type number", value);
            double number = value.As<Napi::Number>().DoubleValue();
            if (!(number >= 0 && number <= kMaxFds && number == static_cast<int>(number))) {
                throw ArgRangeError(env, "options.maxFds",
                                    "an integer >= 0 and <= " + std::to_string(kMaxFds),
                                    value.ToString().Utf8Value());
            }
            max_fds = static_cast<int>(number);
        }
    }
    bool want_address = BoolOption(options, "address", "options.address", false);
    bool want_credentials = BoolOption(options, "credentials", "options.credentials", false);
    Bytes target = ViewBytes(env, info[1], "target");
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    sockaddr_un addr{};
    iovec iov = {target.data, target.length};
    msghdr msg{};
    if (want_address) {
        msg.msg_name = &addr;
        msg.msg_namelen = sizeof addr;
    }
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    size_t control_size = (max_fds > 0 ? CMSG_SPACE(sizeof(int) * max_fds) : 0) +
                          (want_credentials ? CMSG_SPACE(sizeof(ucred)) : 0);
    std::vector<char> control(control_size);
    if (control_size > 0) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
    }
    ssize_t n;
    do {
        n = recvmsg(fd.fd(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "recvmsg");

    std::vector<int> fds;
    bool have_credentials = false;
    ucred cred{};
    if (control_size > 0) {
        for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
            if (cmsg->cmsg_level != SOL_SOCKET) continue;
            if (cmsg->cmsg_type == SCM_RIGHTS) {
                size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                const unsigned char* data = CMSG_DATA(cmsg);
                for (size_t i = 0; i < count; i++) {
                    int received;
                    std::memcpy(&received, data + i * sizeof(int), sizeof(int));
                    fds.push_back(received);
                }
            } else if (cmsg->cmsg_type == SCM_CREDENTIALS &&
                       cmsg->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
                std::memcpy(&cred, CMSG_DATA(cmsg), sizeof cred);
                have_credentials = true;
            }
        }
    }

    Napi::Object result = Napi::Object::New(env);
    Napi::Array handles = WrapFds(env, fds);  // first: it owns the descriptors from here on
    result.Set("length", Napi::Number::New(env, static_cast<double>(n)));
    result.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_TRUNC) != 0));
    result.Set("fds", handles);
    result.Set("fdsTruncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_CTRUNC) != 0));
    if (want_address) result.Set("address", AddressString(env, addr, msg.msg_namelen));
    if (have_credentials) result.Set("credentials", Credentials(env, cred));
    return result;
}

}  // namespace

void ExportSocket(Napi::Env env, Napi::Object exports) {
    SetFunction<Socket>(env, exports, "socket");
    SetFunction<Socketpair>(env, exports, "socketpair");
    SetFunction<SocketBind>(env, exports, "socketBind");
    SetFunction<SocketListen>(env, exports, "socketListen");
    SetFunction<SocketAccept>(env, exports, "socketAccept");
    SetFunction<SocketConnect>(env, exports, "socketConnect");
    SetFunction<SocketName>(env, exports, "socketName");
    SetFunction<SocketPeerCred>(env, exports, "socketPeerCred");
    SetFunction<SocketGetOption>(env, exports, "socketGetOption");
    SetFunction<SocketSetOption>(env, exports, "socketSetOption");
    SetFunction<SocketShutdown>(env, exports, "socketShutdown");
    SetFunction<SocketSend>(env, exports, "socketSend");
    SetFunction<SocketSendmmsg>(env, exports, "socketSendmmsg");
    SetFunction<SocketRecv>(env, exports, "socketRecv");
    SetFunction<SocketRecvmmsg>(env, exports, "socketRecvmmsg");
    SetFunction<SocketSendmsg>(env, exports, "socketSendmsg");
    SetFunction<SocketRecvmsg>(env, exports, "socketRecvmsg");
}

}  // namespace rxipc
