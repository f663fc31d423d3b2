// POSIX shared memory (shm_overview(7)): shm_open, shm_unlink, sizing, and mmap of any
// descriptor that supports it (a POSIX segment, a memfd, a regular file).
//
// shm_overview(7): "a POSIX shared memory object ... is identified by a name of the form
// /somename; that is, a null-terminated string of up to NAME_MAX (i.e., 255) characters
// consisting of an initial slash, followed by one or more characters, none of which are
// slashes." Names are checked against that here, so no other string reaches shm_open (and
// glibc's own leniency, such as names without the slash, is never relied on).
//
// SIGBUS: touching a page of a mapping beyond the end of the file kills the process
// (mmap(2): "Attempted access to a portion of the buffer that does not correspond to the
// file"). shmMap checks the size right before mapping and never maps past it; a peer that
// shrinks a named segment *after* we mapped it can still cause SIGBUS. Only sealing prevents
// that (memfd.cc, F_SEAL_SHRINK), and named POSIX segments cannot be sealed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "args.h"
#include "export.h"
#include "fd.h"
#include "shm.h"

namespace rxipc {
namespace {

constexpr size_t kNameMax = 255;

// A name as shm_overview(7) describes it. TypeError ERR_INVALID_ARG_VALUE otherwise.
std::string ShmName(const Napi::CallbackInfo& info, size_t index) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, index, "name");
    bool ok = name.size() >= 2 && name.size() <= kNameMax && name[0] == '/' &&
              name.find('/', 1) == std::string::npos && name.find('\0') == std::string::npos;
    if (!ok) {
        Napi::TypeError error = Napi::TypeError::New(
            env,
            "The argument 'name' must be a POSIX shared-memory name: '/' and then 1 to 254 "
            "characters, none of them '/' or NUL (shm_overview(7)). Received '" +
                name.substr(0, 64) + (name.size() > 64 ? "...'" : "'"));
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }
    return name;
}

const char* OpenHint(int err) {
    switch (err) {
        case EEXIST:
            return "a segment of this name exists already; attach to it (create: false), pick "
                   "another name, or remove a stale one (rxipc clean, or shmUnlink)";
        case ENOENT:
            return "no segment of this name exists (see /dev/shm); create it first, or check "
                   "the name";
        case EACCES:
            return "the segment's permission bits do not allow this user to open it this way; "
                   "rxipc creates segments 0600, so another user needs an explicit mode";
        case EMFILE:
            return "this process has too many open descriptors (ulimit -n)";
        case ENFILE:
            return "the system has too many open files (/proc/sys/fs/file-max)";
        default:
            return nullptr;
    }
}

const char* MapHint(int err) {
    switch (err) {
        case ENODEV:
            return "this descriptor cannot be mapped: it is no shared-memory segment or file";
        case EACCES:
            return "the descriptor is not open for reading and writing; map it with writable: "
                   "false (a private copy-on-write view), or open the segment writable";
        case EPERM:
            return "the memfd is sealed against writing; map it with writable: false";
        case ENOMEM:
            return "no room in the address space, or vm.max_map_count reached";
        default:
            return nullptr;
    }
}

/* shmOpen(name: string, options?: { create?: boolean; exclusive?: boolean; mode?: number;
   readOnly?: boolean }): FdHandle
   shm_open(3) with O_CLOEXEC, O_RDWR (O_RDONLY with readOnly), O_CREAT with create, O_EXCL
   with exclusive (only meaningful with create), and `mode` (default 0600) for a new segment.
   Nothing is created unless create is true. A new segment has size 0: shmTruncate sizes it.
   Errors (syscall 'shm_open', path = name): EEXIST, ENOENT, EACCES, EINVAL, EMFILE, ENFILE,
   ENAMETOOLONG, each with a hint. */
Napi::Value ShmOpen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = ShmName(info, 0);
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool create = BoolOption(options, "create", "options.create", false);
    bool exclusive = BoolOption(options, "exclusive", "options.exclusive", false);
    bool read_only = BoolOption(options, "readOnly", "options.readOnly", false);
    auto mode = static_cast<mode_t>(IntegerOption(options, "mode", "options.mode", 0, 0777, 0600));

    int flags = O_CLOEXEC | (read_only ? O_RDONLY : O_RDWR);
    if (create) flags |= O_CREAT | (exclusive ? O_EXCL : 0);
    int fd = shm_open(name.c_str(), flags, mode);
    if (fd == -1) {
        int err = errno;
        throw ErrnoError(env, err, "shm_open", name.c_str(), OpenHint(err));
    }
    return NewFdHandle(env, fd);
}

/* shmUnlink(name: string): void
   shm_unlink(3): removes the name; mappings and descriptors already open keep working, and
   the memory is freed when the last goes. Errors (syscall 'shm_unlink', path = name): ENOENT,
   EACCES. */
Napi::Value ShmUnlink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = ShmName(info, 0);
    if (shm_unlink(name.c_str()) == -1) {
        int err = errno;
        const char* hint = err == ENOENT ? "it was removed already, or never created" : nullptr;
        throw ErrnoError(env, err, "shm_unlink", name.c_str(), hint);
    }
    return env.Undefined();
}

/* shmTruncate(fd: FdHandle, size: number): void
   ftruncate(2) to `size` bytes (0 .. 2^53-1); new bytes read as zero. EINTR is retried.
   Errors (syscall 'ftruncate'): EPERM for a sealed memfd, EINVAL (not a segment or file, or
   opened read-only), EFBIG, EBADF. */
Napi::Value ShmTruncate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t size = IntegerArg(info, 1, "size", 0, kMaxSafeInteger);
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    int result;
    do {
        result = ftruncate(fd.fd(), static_cast<off_t>(size));
    } while (result == -1 && errno == EINTR);
    if (result == -1) {
        int err = errno;
        const char* hint = nullptr;
        if (err == EPERM)
            hint =
                "the memfd is sealed against this change (F_SEAL_SHRINK or "
                "F_SEAL_GROW); its size is fixed";
        if (err == EINVAL) hint = "the descriptor is no writable segment or file";
        throw ErrnoError(env, err, "ftruncate", nullptr, hint);
    }
    return env.Undefined();
}

/* shmSize(fd: FdHandle): number
   fstat(2)'s st_size: the segment's (or file's) size in bytes now. Errors: EBADF, EIO
   (syscall 'fstat'). */
Napi::Value ShmSize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    struct stat st;
    if (fstat(fd.fd(), &st) == -1) throw ErrnoError(env, errno, "fstat");
    return Napi::Number::New(env, static_cast<double>(st.st_size));
}

/* shmMap(fd: FdHandle, options?: { offset?: number; length?: number; writable?: boolean }):
   ShmMappingHandle
   mmap(2) of [offset, offset + length) of the descriptor's object, readable and writable by
   JS. With writable (the default) the mapping is MAP_SHARED: writes go to the object, and
   every process mapping it sees them. With writable: false it is MAP_PRIVATE, copy-on-write:
   this process sees the object's contents (pages it has not written keep following the
   object), and its own writes stay its own and never reach the object. There is no
   PROT_READ-only mapping on purpose: an ArrayBuffer cannot be made read-only, and a JS write
   to such memory would kill the process with SIGSEGV. The size is read with fstat(2) right
   before mapping: offset (a multiple of the page size) and length (default: the rest of the
   object) must lie within it, else RangeError, so no page of the mapping is past the end of
   the object. The descriptor may be closed afterwards; the mapping stays. Errors (syscall
   'mmap'): ENODEV (a pipe, socket or eventfd), EACCES (a shared mapping of a read-only
   descriptor), EPERM (a memfd sealed against writing), ENOMEM. */
Napi::Value ShmMap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // Options first: their getters may run user code (args.h).
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    int64_t offset = IntegerOption(options, "offset", "options.offset", 0, kMaxSafeInteger, 0);
    int64_t length = IntegerOption(options, "length", "options.length", 1, kMaxSafeInteger, -1);
    bool writable = BoolOption(options, "writable", "options.writable", true);
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");

    int64_t page = sysconf(_SC_PAGESIZE);
    if (offset % page != 0) {
        throw ArgRangeError(env, "options.offset",
                            "a multiple of the page size " + std::to_string(page),
                            std::to_string(offset));
    }
    struct stat st;
    if (fstat(fd.fd(), &st) == -1) throw ErrnoError(env, errno, "fstat");
    int64_t size = st.st_size;
    if (offset >= size) {
        throw ArgRangeError(env, "options.offset",
                            "below the object's size " + std::to_string(size) +
                                " (a segment of size 0 has not been sized yet: shmTruncate)",
                            std::to_string(offset));
    }
    if (length == -1) length = size - offset;
    if (length > size - offset) {
        throw ArgRangeError(env, "options.length",
                            "<= " + std::to_string(size - offset) + " (the object is " +
                                std::to_string(size) +
                                " bytes; mapping past its end would raise SIGBUS)",
                            std::to_string(length));
    }

    // Always PROT_WRITE (see above); MAP_PRIVATE makes the writes private instead.
    void* address = mmap(nullptr, static_cast<size_t>(length), PROT_READ | PROT_WRITE,
                         writable ? MAP_SHARED : MAP_PRIVATE, fd.fd(), static_cast<off_t>(offset));
    if (address == MAP_FAILED) {
        int err = errno;
        throw ErrnoError(env, err, "mmap", nullptr, MapHint(err));
    }
    return WrapHandle(env, new ShmMapping(env, address, static_cast<size_t>(length),
                                          ShmMapping::Source::kMmap, writable));
}

}  // namespace

void ExportPosixShm(Napi::Env env, Napi::Object exports) {
    SetFunction<ShmOpen>(env, exports, "shmOpen");
    SetFunction<ShmUnlink>(env, exports, "shmUnlink");
    SetFunction<ShmTruncate>(env, exports, "shmTruncate");
    SetFunction<ShmSize>(env, exports, "shmSize");
    SetFunction<ShmMap>(env, exports, "shmMap");
}

}  // namespace rxipc
