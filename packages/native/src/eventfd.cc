// eventfd(2): a kernel counter behind a descriptor. The addon uses one to wake waiter
// threads; JS uses these to drive waiters and watchers in tests and to signal between threads.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "args.h"
#include "export.h"
#include "fd.h"

namespace rxipc {
namespace {

// eventfd(2): "each read(2) returns an 8-byte integer", and writes take one. Anything else
// means the descriptor is not an eventfd.
constexpr ssize_t kCounterSize = sizeof(uint64_t);

Napi::Error NotAnEventfd(Napi::Env env, const char* syscall, ssize_t n) {
    std::string hint = "transferred " + std::to_string(n) + " bytes instead of 8: not an eventfd";
    return ErrnoError(env, EINVAL, syscall, nullptr, hint.c_str());
}

/* eventfd(initial: number, options?: { semaphore?: boolean }): FdHandle
   eventfd(2) with EFD_CLOEXEC | EFD_NONBLOCK (and EFD_SEMAPHORE when asked); `initial` is
   0 .. 2^32-1 (an unsigned int). The handle owns the descriptor. Errors: EMFILE, ENFILE,
   ENODEV, ENOMEM (syscall 'eventfd'). */
Napi::Value Eventfd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto initial = static_cast<unsigned int>(IntegerArg(info, 0, "initial", 0, UINT32_MAX));
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool semaphore = BoolOption(options, "semaphore", "options.semaphore", false);

    int flags = EFD_CLOEXEC | EFD_NONBLOCK | (semaphore ? EFD_SEMAPHORE : 0);
    int fd = eventfd(initial, flags);
    if (fd == -1) throw ErrnoError(env, errno, "eventfd");
    return NewFdHandle(env, fd);
}

/* eventfdWrite(handle: FdHandle, value: number): boolean
   Adds `value` (1 .. 2^53-1) to the counter. false on EAGAIN (the counter would pass
   0xfffffffffffffffe). EINTR is retried. Errors: EBADF, EINVAL (not an eventfd)
   (syscall 'write'). */
Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto value = static_cast<uint64_t>(IntegerArg(info, 1, "value", 1, kMaxSafeInteger));
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    ssize_t n;
    do {
        n = write(fd.fd(), &value, sizeof value);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Napi::Boolean::New(env, false);
    if (n == -1) throw ErrnoError(env, errno, "write");
    if (n != kCounterSize) throw NotAnEventfd(env, "write", n);
    return Napi::Boolean::New(env, true);
}

/* eventfdRead(handle: FdHandle): number | null
   Reads and resets the counter (or takes 1 from it, in semaphore mode). null on EAGAIN (the
   counter is 0). A counter above 2^53 (only another process could put it there) loses
   precision. EINTR is retried. Errors: EBADF, EINVAL (not an eventfd) (syscall 'read'). */
Napi::Value EventfdRead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    uint64_t value = 0;
    ssize_t n;
    do {
        n = read(fd.fd(), &value, sizeof value);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "read");
    if (n != kCounterSize) throw NotAnEventfd(env, "read", n);
    return Napi::Number::New(env, static_cast<double>(value));
}

}  // namespace

void ExportEventfd(Napi::Env env, Napi::Object exports) {
    SetFunction<Eventfd>(env, exports, "eventfd");
    SetFunction<EventfdWrite>(env, exports, "eventfdWrite");
    SetFunction<EventfdRead>(env, exports, "eventfdRead");
}

}  // namespace rxipc
