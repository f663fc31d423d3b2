// Named pipes (fifo(7)): mkfifo, a non-blocking open, and a zero-timeout poll(2) that tells
// "no writer yet" from "the last writer left". Nothing here blocks: a FIFO's open(2) waits for
// the other side unless O_NONBLOCK is given, so it always is. Retrying a writer's open until a
// reader arrives (ENXIO) is policy and lives in TypeScript.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

#include "args.h"
#include "export.h"
#include "fd.h"

namespace rxipc {
namespace {

// A path argument: a string that starts with '/', holds no NUL and fits PATH_MAX. Relative
// paths are refused on purpose: they would resolve against whatever the process's working
// directory is at the time of the call (the TypeScript layer resolves them first).
std::string AbsolutePathArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    std::string path = StringArg(info, index, name);
    bool ok = !path.empty() && path[0] == '/' && path.find('\0') == std::string::npos &&
              path.size() < PATH_MAX;
    if (!ok) {
        Napi::TypeError error = Napi::TypeError::New(
            info.Env(), std::string("The \"") + name +
                            "\" argument must be an absolute path without NUL bytes, shorter "
                            "than PATH_MAX (4096)");
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }
    return path;
}

const char* FileTypeName(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a FIFO";
}

/* mkfifo(path: string, mode: number): void
   mkfifo(3) with `mode` (0 .. 0o7777, then narrowed by the umask as always). `path` must be
   absolute (TypeError ERR_INVALID_ARG_VALUE otherwise). Errors (syscall 'mkfifo', with the
   path): EEXIST when anything exists at the path, ENOENT for a missing directory, EACCES. */
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = AbsolutePathArg(info, 0, "path");
    auto mode = static_cast<mode_t>(IntegerArg(info, 1, "mode", 0, 07777));
    if (mkfifo(path.c_str(), mode) == -1) {
        const char* hint = errno == EEXIST ? "something already exists at this path" : nullptr;
        throw ErrnoError(env, errno, "mkfifo", path.c_str(), hint);
    }
    return env.Undefined();
}

/* fifoOpen(path: string, access: 'read' | 'write' | 'readwrite'): FdHandle
   open(2) with O_NONBLOCK | O_CLOEXEC | O_NOCTTY, so it never waits for the other side: a
   reader opens at once (and reads 0 bytes until a writer has come and gone; see fdPoll), a
   writer fails with ENXIO while no reader has the FIFO open (fifo(7)). The object must be a
   FIFO: anything else is refused with EINVAL (hint: what it is), checked with stat(2) before
   the open (so a device is not even opened) and with fstat(2) after it (the path may have
   changed in between). The descriptor stays non-blocking. Errors (syscall 'open', with the
   path): ENOENT, EACCES, ENXIO, EINVAL. */
Napi::Value FifoOpen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = AbsolutePathArg(info, 0, "path");
    std::string access = StringArg(info, 1, "access");
    int flags = 0;
    if (access == "read") {
        flags = O_RDONLY;
    } else if (access == "write") {
        flags = O_WRONLY;
    } else if (access == "readwrite") {
        // fifo(7): "Under Linux, opening a FIFO for read and write will succeed both in
        // blocking and nonblocking mode."
        flags = O_RDWR;
    } else {
        Napi::TypeError error = Napi::TypeError::New(
            env, "The \"access\" argument must be one of 'read', 'write', 'readwrite'");
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }

    struct stat st;
    if (stat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
        std::string hint = std::string("not a FIFO but ") + FileTypeName(st.st_mode);
        throw ErrnoError(env, EINVAL, "open", path.c_str(), hint.c_str());
    }

    int fd;
    do {
        fd = open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    } while (fd == -1 && errno == EINTR);
    if (fd == -1) {
        const char* hint = errno == ENXIO ? "no process has the FIFO open for reading" : nullptr;
        throw ErrnoError(env, errno, "open", path.c_str(), hint);
    }

    if (fstat(fd, &st) == -1) {
        int err = errno;
        close(fd);
        throw ErrnoError(env, err, "fstat", path.c_str());
    }
    if (!S_ISFIFO(st.st_mode)) {
        close(fd);
        std::string hint = std::string("not a FIFO but ") + FileTypeName(st.st_mode);
        throw ErrnoError(env, EINVAL, "open", path.c_str(), hint.c_str());
    }
    return NewFdHandle(env, fd);
}

// binding.ts's POLL_* constants for fdPoll are poll(2)'s own values.
static_assert(POLLIN == 1 && POLLOUT == 4 && POLLERR == 8 && POLLHUP == 16 && POLLNVAL == 32,
              "poll bits");
constexpr int kPollMask = POLLIN | POLLPRI | POLLOUT | POLLRDHUP;

/* fdPoll(handle: FdHandle, events: number): number
   poll(2) on one descriptor with a zero timeout: the `revents` mask now (POLLIN 1, POLLPRI 2,
   POLLOUT 4, POLLERR 8, POLLHUP 16, POLLNVAL 32, POLLRDHUP 0x2000), 0 when nothing holds.
   `events` is a mask of POLLIN | POLLPRI | POLLOUT | POLLRDHUP (RangeError otherwise); POLLERR
   and POLLHUP are always reported. Never waits. A FIFO reader uses it to tell end of stream
   (POLLHUP: a writer came and left) from "no writer yet" (read(2) returns 0 in both cases).
   Errors: ENOMEM (syscall 'poll'). */
Napi::Value FdPoll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto events = static_cast<int>(IntegerArg(info, 1, "events", 0, kPollMask));
    if ((events & ~kPollMask) != 0) {
        throw ArgRangeError(env, "events", "a mask of POLLIN, POLLPRI, POLLOUT and POLLRDHUP",
                            std::to_string(events));
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    struct pollfd pfd = {fd.fd(), static_cast<short>(events), 0};
    int n;
    do {
        n = poll(&pfd, 1, 0);
    } while (n == -1 && errno == EINTR);
    if (n == -1) throw ErrnoError(env, errno, "poll");
    return Napi::Number::New(env, n == 0 ? 0 : pfd.revents);
}

}  // namespace

void ExportFifo(Napi::Env env, Napi::Object exports) {
    SetFunction<Mkfifo>(env, exports, "mkfifo");
    SetFunction<FifoOpen>(env, exports, "fifoOpen");
    SetFunction<FdPoll>(env, exports, "fdPoll");
}

}  // namespace rxipc
