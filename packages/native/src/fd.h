// A handle that owns one file descriptor (pipe ends, eventfds, adopted descriptors).
#pragma once

#include <napi.h>

#include <vector>

#include "handle.h"

namespace rxipc {

class Fd : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kFd;

    // Takes `fd`, which the caller has claimed (Claim). On close, puts the file status flags
    // back to `restore_flags` (unless it is -1) and closes the descriptor (unless
    // `close_on_close` is false).
    Fd(Napi::Env env, int fd, bool close_on_close = true, int restore_flags = -1);

    // Records, process-wide, that a handle is about to own `fd`. A descriptor has either one
    // owner that closes it or any number that do not. A new descriptor from pipe2 or eventfd
    // is always claimed (`exclusive` false); fdAdopt asks with `exclusive` and is refused
    // (false) when the claim conflicts, so that two handles never both close one number:
    // the second close would hit whatever the kernel reused the number for.
    static bool Claim(int fd, bool close_on_close, bool exclusive);

    // Drops the claim and, when `close_on_close`, closes `fd`. Returns 0 or close's errno.
    static int Unclaim(int fd, bool close_on_close);

    // The descriptor, or -1 once closed.
    int fd() const { return fd_; }

    // Watchers and waiters that use this descriptor. Close() closes them first: libuv's
    // uv_poll_t documentation says "The user should not close a file descriptor while it is
    // being polled by an active poll handle", and a waiter thread must not poll a number that
    // the kernel may hand out again.
    void Attach(Handle* dependent) { dependents_.push_back(dependent); }
    void Detach(Handle* dependent);

  protected:
    int DoClose() override;

  private:
    int fd_;
    bool close_on_close_;
    int restore_flags_;
    std::vector<Handle*> dependents_;
};

// A handle for a descriptor the kernel just created (pipe2, eventfd): claims it and wraps it.
Napi::Value NewFdHandle(Napi::Env env, int fd);

}  // namespace rxipc
