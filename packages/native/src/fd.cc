// Descriptors: pipes, adoption of inherited descriptors, flags, non-blocking read and writev.
// Nothing here ever blocks the event loop as long as the descriptor is non-blocking, which is
// the default for everything the addon creates (and uv_poll_init makes any watched one so).
#include "fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "export.h"

namespace rxipc {

Fd::Fd(Napi::Env env, int fd, bool close_on_close, int restore_flags)
    : Handle(env, kKind), fd_(fd), close_on_close_(close_on_close), restore_flags_(restore_flags) {}

void Fd::Detach(Handle* dependent) {
    dependents_.erase(std::remove(dependents_.begin(), dependents_.end(), dependent),
                      dependents_.end());
}

int Fd::DoClose() {
    // Each dependent detaches itself while closing, so iterate over a copy.
    std::vector<Handle*> dependents = dependents_;
    for (Handle* dependent : dependents) dependent->Close();
    dependents_.clear();

    // Best effort: the description may be shared with other processes (a terminal, the
    // shell's pipe), which expect the flags they set. A failure here is not worth more than
    // the close itself, whose result is what fdClose reports.
    if (restore_flags_ != -1) fcntl(fd_, F_SETFL, restore_flags_);

    int err = Unclaim(fd_, close_on_close_);
    fd_ = -1;
    return err;
}

// ---- the process-wide table of owned descriptors ----------------------------------------
//
// Descriptor numbers are process-wide, so the table is too (workers share it). It is leaked
// on purpose: a static with a destructor could be torn down at exit() while a worker still
// closes a handle.

namespace {

struct Owners {
    int closing = 0;  // 0 or 1
    int borrowing = 0;
};

std::mutex& TableMutex() {
    static auto* mutex = new std::mutex();
    return *mutex;
}

std::unordered_map<int, Owners>& Table() {
    static auto* table = new std::unordered_map<int, Owners>();
    return *table;
}

}  // namespace

bool Fd::Claim(int fd, bool close_on_close, bool exclusive) {
    std::lock_guard<std::mutex> lock(TableMutex());
    Owners& owners = Table()[fd];
    bool conflict = owners.closing > 0 || (close_on_close && owners.borrowing > 0);
    if (exclusive && conflict) {
        if (owners.closing == 0 && owners.borrowing == 0) Table().erase(fd);
        return false;
    }
    // Not exclusive: the kernel just handed out this number, so any older entry is stale (its
    // owner's descriptor was closed behind its back); the new owner replaces it.
    if (!exclusive) owners = Owners{};
    (close_on_close ? owners.closing : owners.borrowing)++;
    return true;
}

int Fd::Unclaim(int fd, bool close_on_close) {
    // The close happens under the lock: once it returns, the kernel may hand the number to a
    // new pipe in another thread, whose claim must come after this entry is gone.
    std::lock_guard<std::mutex> lock(TableMutex());
    auto it = Table().find(fd);
    if (it != Table().end()) {
        Owners& owners = it->second;
        int& count = close_on_close ? owners.closing : owners.borrowing;
        if (count > 0) count--;
        if (owners.closing == 0 && owners.borrowing == 0) Table().erase(it);
    }
    if (!close_on_close) return 0;
    // close(2): "Retrying the close() after a failure return is the wrong thing to do", since
    // on Linux the descriptor is released even when close reports EINTR.
    if (close(fd) == -1 && errno != EINTR) return errno;
    return 0;
}

Napi::Value NewFdHandle(Napi::Env env, int fd) {
    Fd::Claim(fd, /*close_on_close=*/true, /*exclusive=*/false);
    return WrapHandle(env, new Fd(env, fd));
}

namespace {

/* pipe(options?: { cloexec?: boolean; nonblock?: boolean }): [FdHandle, FdHandle]
   pipe2(2) with O_CLOEXEC and O_NONBLOCK unless an option says false. Returns
   [readEnd, writeEnd]; each handle owns its descriptor. Errors: EMFILE, ENFILE (syscall
   'pipe2'). */
Napi::Value Pipe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::optional<Napi::Object> options = OptionsArg(info, 0, "options");
    bool cloexec = BoolOption(options, "cloexec", "options.cloexec", true);
    bool nonblock = BoolOption(options, "nonblock", "options.nonblock", true);

    int fds[2];
    int flags = (cloexec ? O_CLOEXEC : 0) | (nonblock ? O_NONBLOCK : 0);
    if (pipe2(fds, flags) == -1) throw ErrnoError(env, errno, "pipe2");

    // WrapHandle owns (or closes) what it is given even when it throws, so only an end not
    // yet given to it needs closing here.
    Napi::Array result = Napi::Array::New(env, 2);
    Napi::Value read_end;
    try {
        read_end = NewFdHandle(env, fds[0]);
    } catch (...) {
        close(fds[1]);
        throw;
    }
    result.Set(uint32_t{0}, read_end);
    result.Set(uint32_t{1}, NewFdHandle(env, fds[1]));
    return result;
}

/* fdAdopt(fd: number, options?: { closeOnClose?: boolean; restoreFlagsOnClose?: boolean }):
   FdHandle
   Takes ownership of an existing descriptor, checked open with fcntl(F_GETFD) (EBADF
   otherwise, syscall 'fcntl'). With restoreFlagsOnClose (default true) the file status flags
   (F_GETFL) seen now are put back on close; with closeOnClose false (for 0, 1, 2) the
   descriptor stays open after the handle closes. EBUSY (syscall 'fdAdopt') when an open
   handle in this process already owns the number and either of the two would close it:
   the second close would hit whatever the kernel reused the number for. */
Napi::Value FdAdopt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0);
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool close_on_close = BoolOption(options, "closeOnClose", "options.closeOnClose", true);
    bool restore = BoolOption(options, "restoreFlagsOnClose", "options.restoreFlagsOnClose", true);

    if (fcntl(fd, F_GETFD) == -1) throw ErrnoError(env, errno, "fcntl");
    int flags = -1;
    if (restore) {
        flags = fcntl(fd, F_GETFL);
        if (flags == -1) throw ErrnoError(env, errno, "fcntl");
    }
    if (!Fd::Claim(fd, close_on_close, /*exclusive=*/true)) {
        std::string hint = "descriptor " + std::to_string(fd) +
                           " is already owned by an open handle; adopt it only once, or with "
                           "closeOnClose: false everywhere";
        throw ErrnoError(env, EBUSY, "fdAdopt", nullptr, hint.c_str());
    }
    return WrapHandle(env, new Fd(env, fd, close_on_close, flags));
}

/* fdNumber(handle: FdHandle): number
   The descriptor number, or -1 once the handle is closed. Never a system call. */
Napi::Value FdNumber(const Napi::CallbackInfo& info) {
    Fd& fd = UnwrapHandle<Fd>(info, 0, "handle", /*allow_closed=*/true);
    return Napi::Number::New(info.Env(), fd.fd());
}

/* fdType(handle: FdHandle): FdType
   fstat(2)'s file type: 'fifo' | 'socket' | 'file' | 'character' | 'directory' | 'block' |
   'unknown' (an eventfd or other anonymous inode has no type bits). Errors: EBADF, EIO. */
Napi::Value FdType(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    struct stat st;
    if (fstat(fd.fd(), &st) == -1) throw ErrnoError(env, errno, "fstat");

    const char* type = "unknown";
    if (S_ISFIFO(st.st_mode)) type = "fifo";
    if (S_ISSOCK(st.st_mode)) type = "socket";
    if (S_ISREG(st.st_mode)) type = "file";
    if (S_ISCHR(st.st_mode)) type = "character";
    if (S_ISDIR(st.st_mode)) type = "directory";
    if (S_ISBLK(st.st_mode)) type = "block";
    return Napi::String::New(env, type);
}

// Sets or clears `bit` in the flags that `get`/`set` (F_GETFL/F_SETFL or F_GETFD/F_SETFD)
// manage. Returns 0 or errno.
int ChangeFlag(int fd, int get, int set, int bit, bool on) {
    int flags = fcntl(fd, get);
    if (flags == -1) return errno;
    int wanted = on ? (flags | bit) : (flags & ~bit);
    if (wanted != flags && fcntl(fd, set, wanted) == -1) return errno;
    return 0;
}

/* fdSetFlags(handle: FdHandle, flags: { nonblock?: boolean; cloexec?: boolean }): void
   O_NONBLOCK through F_GETFL/F_SETFL and FD_CLOEXEC through F_GETFD/F_SETFD; an absent
   property leaves its flag alone. O_NONBLOCK belongs to the open file description, so it
   changes for every process sharing it. Errors: EBADF (syscall 'fcntl'). */
Napi::Value FdSetFlags(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // The options first: their getters may run user code (see args.h).
    std::optional<Napi::Object> flags = ObjectArg(info, 1, "flags");
    std::optional<bool> nonblock = OptionalBoolOption(flags, "nonblock", "flags.nonblock");
    std::optional<bool> cloexec = OptionalBoolOption(flags, "cloexec", "flags.cloexec");
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    int err = 0;
    if (nonblock) err = ChangeFlag(fd.fd(), F_GETFL, F_SETFL, O_NONBLOCK, *nonblock);
    if (err == 0 && cloexec) err = ChangeFlag(fd.fd(), F_GETFD, F_SETFD, FD_CLOEXEC, *cloexec);
    if (err != 0) throw ErrnoError(env, err, "fcntl");
    return env.Undefined();
}

/* fdGetFlags(handle: FdHandle): { nonblock: boolean; cloexec: boolean }
   Reads O_NONBLOCK and FD_CLOEXEC back. Errors: EBADF (syscall 'fcntl'). */
Napi::Value FdGetFlags(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    int status = fcntl(fd.fd(), F_GETFL);
    if (status == -1) throw ErrnoError(env, errno, "fcntl");
    int descriptor = fcntl(fd.fd(), F_GETFD);
    if (descriptor == -1) throw ErrnoError(env, errno, "fcntl");

    Napi::Object result = Napi::Object::New(env);
    result.Set("nonblock", Napi::Boolean::New(env, (status & O_NONBLOCK) != 0));
    result.Set("cloexec", Napi::Boolean::New(env, (descriptor & FD_CLOEXEC) != 0));
    return result;
}

/* fdRead(handle: FdHandle, target: ArrayBufferView): number | null
   One read(2) of at most target.byteLength bytes into the view's memory (the caller keeps
   owning it; nothing is retained). Returns the count, 0 at end of stream, null on EAGAIN.
   EINTR is retried. Errors: EBADF, EIO, EISDIR, EINVAL... (syscall 'read'). A blocking
   descriptor would block the loop here: the caller keeps its descriptors non-blocking. */
Napi::Value FdRead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    Bytes target = ViewBytes(env, info[1], "target");
    // read(2): "If count is greater than SSIZE_MAX, the result is implementation-defined".
    size_t count = std::min<size_t>(target.length, SSIZE_MAX);

    ssize_t n;
    do {
        n = read(fd.fd(), target.data, count);
    } while (n == -1 && errno == EINTR);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "read");
    return Napi::Number::New(env, static_cast<double>(n));
}

/* fdWritev(handle: FdHandle, chunks: readonly ArrayBufferView[]): number | null
   One writev(2) of the views in order; at most IOV_MAX (1024) views, more is a RangeError.
   Returns the bytes written (a partial write is normal on a full pipe), null on EAGAIN, and 0
   for no chunks (without a system call). EINTR is retried. Errors: EPIPE when the reading
   end is closed (Node ignores SIGPIPE, so the signal does not kill us), EBADF, EINVAL...
   (syscall 'writev'). The views stay the caller's; nothing is retained. */
Napi::Value FdWritev(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value value = info[1];
    if (!value.IsArray()) throw ArgTypeError(env, "chunks", "an array of ArrayBufferView", value);
    Napi::Array array = value.As<Napi::Array>();
    uint32_t length = array.Length();
    if (length > IOV_MAX) {
        throw ArgRangeError(env, "chunks.length", "<= " + std::to_string(IOV_MAX),
                            std::to_string(length));
    }

    // Two passes: reading the elements may run getters, and a getter could detach or resize a
    // buffer already looked at. So collect the values first, then take pointers (no user code
    // runs after that) and unwrap the handle last.
    std::vector<Napi::Value> values;
    values.reserve(length);
    for (uint32_t i = 0; i < length; i++) values.push_back(array.Get(i));

    std::vector<struct iovec> iov(length);
    for (uint32_t i = 0; i < length; i++) {
        std::string name = "chunks[" + std::to_string(i) + "]";
        Bytes bytes = ViewBytes(env, values[i], name.c_str());
        iov[i] = {bytes.data, bytes.length};
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    if (length == 0) return Napi::Number::New(env, 0);

    ssize_t n;
    do {
        n = writev(fd.fd(), iov.data(), static_cast<int>(iov.size()));
    } while (n == -1 && errno == EINTR);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "writev");
    return Napi::Number::New(env, static_cast<double>(n));
}

/* fdPipeSize(handle: FdHandle): number
   fcntl(F_GETPIPE_SZ): the pipe's capacity in bytes. Errors: EBADF, EINVAL when the
   descriptor is no pipe (syscall 'fcntl'). */
Napi::Value FdPipeSize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    int size = fcntl(fd.fd(), F_GETPIPE_SZ);
    if (size == -1) throw ErrnoError(env, errno, "fcntl");
    return Napi::Number::New(env, size);
}

/* fdClose(handle: FdHandle): void
   Closes every watcher and waiter on the descriptor (stop + uv_close, wake + join), restores
   the adopted flags, then close(2)s it (unless adopted with closeOnClose: false). The handle
   is closed afterwards whatever close(2) said. Idempotent. Errors: EBADF when something else
   closed the number behind our back, EIO (syscall 'close'). */
Napi::Value FdClose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0, "handle", /*allow_closed=*/true);
    int err = fd.Close();
    if (err != 0) throw ErrnoError(env, err, "close");
    return env.Undefined();
}

}  // namespace

void ExportFd(Napi::Env env, Napi::Object exports) {
    SetFunction<Pipe>(env, exports, "pipe");
    SetFunction<FdAdopt>(env, exports, "fdAdopt");
    SetFunction<FdNumber>(env, exports, "fdNumber");
    SetFunction<FdType>(env, exports, "fdType");
    SetFunction<FdSetFlags>(env, exports, "fdSetFlags");
    SetFunction<FdGetFlags>(env, exports, "fdGetFlags");
    SetFunction<FdRead>(env, exports, "fdRead");
    SetFunction<FdWritev>(env, exports, "fdWritev");
    SetFunction<FdPipeSize>(env, exports, "fdPipeSize");
    SetFunction<FdClose>(env, exports, "fdClose");
}

}  // namespace rxipc
