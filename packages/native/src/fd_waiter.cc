// The concrete waiter on a descriptor: the waiter thread blocks in poll(2) on the target and
// on a private eventfd that Close() writes to. It proves the waiter machinery on something a
// test can drive (an eventfd or a pipe); semaphores and queues reuse it with their own Wait().
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "export.h"
#include "fd.h"
#include "waiter.h"

namespace rxipc {
namespace {

class FdWaiter final : public Waiter {
  public:
    // Takes `wake_fd` and `fd_ref`, a strong reference to the JS handle of `fd` that keeps it
    // alive until closed. Does not throw.
    FdWaiter(Napi::Env env, Fd& fd, napi_ref fd_ref, int wake_fd)
        : Waiter(env), fd_(&fd), fd_ref_(fd_ref), target_(fd.fd()), wake_fd_(wake_fd) {
        fd.Attach(this);
    }

  protected:
    Outcome Wait() override {
        struct pollfd fds[2] = {{target_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        for (;;) {
            int n = poll(fds, 2, -1);
            if (n == -1 && errno == EINTR) continue;
            if (n == -1) return {Outcome::kError, errno, "poll"};

            if (fds[1].revents != 0) {
                uint64_t count;
                // Reset the counter; the waker only wants this poll to return.
                ssize_t ignored = read(wake_fd_, &count, sizeof count);
                (void)ignored;
                return {Outcome::kWoken};
            }
            // poll(2): POLLNVAL "Invalid request: fd not open". Someone closed the number
            // behind the handle's back (fdClose would have closed this waiter first).
            if (fds[0].revents & POLLNVAL) return {Outcome::kError, EBADF, "poll"};
            // POLLIN, or POLLHUP/POLLERR: either way a read now returns without blocking
            // (data, end of stream, or the error), which is what the callback needs to know.
            if (fds[0].revents != 0) return {Outcome::kReady};
        }
    }

    void Wake() override {
        uint64_t one = 1;
        // eventfd(2): a write fails with EAGAIN only when the counter would pass
        // 0xfffffffffffffffe, and we add 1 per close: it cannot happen.
        ssize_t ignored = write(wake_fd_, &one, sizeof one);
        (void)ignored;
    }

    void ReleaseWaitResources() override {
        Fd::Unclaim(wake_fd_, /*close_on_close=*/true);
        wake_fd_ = -1;
        fd_->Detach(this);
        fd_ = nullptr;
        DropReference(env_, fd_ref_);
    }

  private:
    Fd* fd_;
    napi_ref fd_ref_;   // strong, until closed
    const int target_;  // read by the thread; the Fd cannot close it before joining us
    int wake_fd_;
};

/* fdWaiter(handle: FdHandle, callback: (error: SystemError | null) => void): WaiterHandle
   Starts a waiter thread (not the libuv pool) that blocks in poll(2) until handle's
   descriptor is readable (or hung up), then calls callback(null) on the event loop and sleeps
   until waiterArm. A failed poll calls callback(error) (syscall 'poll'; EBADF when the number
   was closed behind the handle's back). Created armed. The waiter keeps `handle` alive until
   closed; closing `handle` closes the waiter first. Errors: EMFILE/ENFILE (syscall 'eventfd')
   for the wake-up descriptor, EAGAIN (syscall 'pthread_create'). */
Napi::Value FdWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function callback = FunctionArg(info, 1, "callback");
    Fd& fd = UnwrapHandle<Fd>(info, 0);

    napi_ref fd_ref = StrongReference(env, info[0]);
    int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd == -1) {
        int err = errno;
        DropReference(env, fd_ref);
        throw ErrnoError(env, err, "eventfd");
    }
    // Claimed like any descriptor of ours, so that fdAdopt cannot take it over.
    Fd::Claim(wake_fd, /*close_on_close=*/true, /*exclusive=*/false);
    auto* waiter = new FdWaiter(env, fd, fd_ref, wake_fd);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

}  // namespace

void ExportFdWaiter(Napi::Env env, Napi::Object exports) {
    SetFunction<FdWaiterJs>(env, exports, "fdWaiter");
}

}  // namespace rxipc
