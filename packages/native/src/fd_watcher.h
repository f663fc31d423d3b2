// A uv_poll_t watcher on a descriptor owned by an Fd: readiness reported on the event loop.
#pragma once

#include <napi.h>
#include <uv.h>

#include "fd.h"
#include "handle.h"

namespace rxipc {

class FdWatcher : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kFdWatcher;

    // The poll handle lives in its own allocation because uv_close completes later, maybe
    // after this object is gone; libuv's docs: "the memory can only be released in close_cb
    // or after it has returned". The close callback frees it and tells the registry.
    struct Poll {
        uv_poll_t uv;
        Registry* registry;
    };

    // Takes `poll` (already uv_poll_init'ed on fd's descriptor) and two strong references,
    // to the JS handle of `fd` and to the callback, which it drops when closed. Does not
    // throw, so nothing initialised can leak.
    FdWatcher(Napi::Env env, Poll* poll, Fd& fd, napi_ref fd_ref, napi_ref callback_ref);

    // uv_poll_start with a mask of UV_READABLE | UV_WRITABLE | UV_DISCONNECT (0 stops).
    // Returns 0 or a negative libuv error.
    int Start(int events);
    void Stop();

  protected:
    int DoClose() override;

  private:
    static void OnPoll(uv_poll_t* uv, int status, int events);
    static void OnClosed(uv_handle_t* uv);

    Poll* poll_;
    Fd* fd_;
    napi_ref fd_ref_;    // strong, until closed
    napi_ref callback_;  // strong, until closed
    napi_async_context async_context_ = nullptr;
};

}  // namespace rxipc
