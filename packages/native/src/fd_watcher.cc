// uv_poll_t watchers: the event loop waits on the descriptor, so nothing blocks and no thread
// is used. libuv's epoll backend is level-triggered (no EPOLLET): the callback runs on every
// loop turn while the condition holds, until the callback reads (or writes) enough or stops
// the watcher.
#include "fd_watcher.h"

#include "args.h"
#include "export.h"
#include "registry.h"

namespace rxipc {

FdWatcher::FdWatcher(Napi::Env env, Poll* poll, Fd& fd, napi_ref fd_ref, napi_ref callback_ref)
    : Handle(env, kKind), poll_(poll), fd_(&fd), fd_ref_(fd_ref), callback_(callback_ref) {
    poll_->uv.data = this;
    fd.Attach(this);
    // The async context makes the callback a proper async_hooks resource, so promises and
    // AsyncLocalStorage behave in it as in any Node callback. (On failure it stays null, and
    // napi_make_callback runs without one.)
    napi_value name = nullptr;
    napi_create_string_utf8(env, "rxipc:FdWatcher", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, nullptr, name, &async_context_);
}

int FdWatcher::Start(int events) {
    if (events == 0) {
        Stop();
        return 0;
    }
    int err = uv_poll_start(&poll_->uv, events, OnPoll);
    if (err != 0) return err;
    // A started uv_poll keeps the loop alive; it keeps its JS object alive too.
    Pin();
    return 0;
}

void FdWatcher::Stop() {
    if (poll_ != nullptr) uv_poll_stop(&poll_->uv);
    Unpin();
}

int FdWatcher::DoClose() {
    // uv_close on a poll handle stops it and drops the descriptor from the backend at once
    // (so the descriptor may be closed right after); only the memory waits for OnClosed.
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->uv), OnClosed);
    registry_->BeginUvClose();
    poll_ = nullptr;

    fd_->Detach(this);
    fd_ = nullptr;
    DropReference(env_, fd_ref_);
    DropReference(env_, callback_);
    if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
    return 0;
}

void FdWatcher::OnClosed(uv_handle_t* uv) {
    // Poll is standard-layout with uv_poll_t first, so the handle address is the Poll's.
    Poll* poll = reinterpret_cast<Poll*>(uv);
    Registry* registry = poll->registry;
    delete poll;
    registry->EndUvClose();
}

/* Runs on the loop thread from libuv, outside any JS call: so it opens its own handle scope,
   calls through napi_make_callback (which runs the microtask queue afterwards, as for any
   Node callback), and uses the C API so that no C++ exception can unwind into libuv. A JS
   exception becomes an uncaught exception ('uncaughtException', or the process exits 1). */
void FdWatcher::OnPoll(uv_poll_t* uv, int status, int events) {
    auto* self = static_cast<FdWatcher*>(uv->data);
    napi_env env = self->env_;

    // On an error (status < 0; POLLERR) libuv stops the handle before calling back
    // (uv__poll_io in src/unix/poll.c). Reflect that, so the watcher no longer pins itself.
    if (status < 0) self->Unpin();

    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value callback = nullptr, global = nullptr, argv[2] = {nullptr, nullptr}, result;
    napi_get_reference_value(env, self->callback_, &callback);
    napi_get_global(env, &global);
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    if (callback != nullptr) {
        // `self` may be closed (even collected later) by the callback: not touched after this.
        napi_status call =
            napi_make_callback(env, self->async_context_, global, callback, 2, argv, &result);
        if (call == napi_pending_exception) {
            napi_value error;
            if (napi_get_and_clear_last_exception(env, &error) == napi_ok) {
                napi_fatal_exception(env, error);
            }
        }
    }
    napi_close_handle_scope(env, scope);
}

namespace {

// binding.ts's POLL_READABLE | POLL_WRITABLE | POLL_DISCONNECT are libuv's own values.
static_assert(UV_READABLE == 1 && UV_WRITABLE == 2 && UV_DISCONNECT == 4, "uv_poll_event");
constexpr int kAllEvents = UV_READABLE | UV_WRITABLE | UV_DISCONNECT;

/* fdWatch(handle: FdHandle, callback: (status: number, events: number) => void):
   FdWatcherHandle
   A stopped uv_poll watcher on handle's descriptor. The watcher keeps `handle` and `callback`
   alive until it is closed; closing `handle` closes the watcher first. uv_poll_init makes the
   descriptor non-blocking (O_NONBLOCK, shared with everyone using the description; fdAdopt's
   restoreFlagsOnClose puts it back). Errors (syscall 'uv_poll_init'): EEXIST when another
   handle of this event loop already polls the descriptor (libuv allows one per descriptor;
   this includes Node's own streams on 0, 1, 2 once they are reading), EPERM for a regular
   file or directory (epoll cannot wait on them), EBADF. */
Napi::Value FdWatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function callback = FunctionArg(info, 1, "callback");
    Fd& fd = UnwrapHandle<Fd>(info, 0);
    Registry& registry = Registry::Of(env);

    // Everything that can throw comes before uv_poll_init: an initialised poll handle must
    // reach uv_close, or a worker's loop could not be closed.
    napi_ref fd_ref = StrongReference(env, info[0]);
    napi_ref callback_ref = nullptr;
    try {
        callback_ref = StrongReference(env, callback);
    } catch (...) {
        DropReference(env, fd_ref);
        throw;
    }
    auto* poll = new FdWatcher::Poll{};
    poll->registry = &registry;
    int err = uv_poll_init(registry.loop(), &poll->uv, fd.fd());
    if (err != 0) {
        delete poll;  // never initialised: nothing for libuv to close
        DropReference(env, fd_ref);
        DropReference(env, callback_ref);
        throw ErrnoError(env, -err, "uv_poll_init");
    }
    return WrapHandle(env, new FdWatcher(env, poll, fd, fd_ref, callback_ref));
}

/* fdWatchStart(watcher: FdWatcherHandle, events: number): void
   Starts (or changes) the events watched: a mask of POLL_READABLE | POLL_WRITABLE |
   POLL_DISCONNECT (0 stops). A started watcher keeps the loop and itself alive. RangeError
   for any other mask. Errors (syscall 'uv_poll_start'): EEXIST when another handle of this
   loop started polling the descriptor meanwhile, ENOMEM. */
Napi::Value FdWatchStart(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int events = static_cast<int>(IntegerArg(info, 1, "events", 0, kAllEvents));
    FdWatcher& watcher = UnwrapHandle<FdWatcher>(info, 0, "watcher");
    int err = watcher.Start(events);
    if (err != 0) throw ErrnoError(env, -err, "uv_poll_start");
    return env.Undefined();
}

/* fdWatchStop(watcher: FdWatcherHandle): void
   uv_poll_stop: no more callbacks until started again; the watcher no longer keeps the loop
   or itself alive. Idempotent, and a no-op on a closed watcher. */
Napi::Value FdWatchStop(const Napi::CallbackInfo& info) {
    FdWatcher& watcher = UnwrapHandle<FdWatcher>(info, 0, "watcher", /*allow_closed=*/true);
    if (!watcher.closed()) watcher.Stop();
    return info.Env().Undefined();
}

/* fdWatchClose(watcher: FdWatcherHandle): void
   Stops and uv_closes the watcher and lets go of its descriptor handle and callback. The
   descriptor stays open. Idempotent. */
Napi::Value FdWatchClose(const Napi::CallbackInfo& info) {
    FdWatcher& watcher = UnwrapHandle<FdWatcher>(info, 0, "watcher", /*allow_closed=*/true);
    watcher.Close();
    return info.Env().Undefined();
}

}  // namespace

void ExportFdWatcher(Napi::Env env, Napi::Object exports) {
    SetFunction<FdWatch>(env, exports, "fdWatch");
    SetFunction<FdWatchStart>(env, exports, "fdWatchStart");
    SetFunction<FdWatchStop>(env, exports, "fdWatchStop");
    SetFunction<FdWatchClose>(env, exports, "fdWatchClose");
}

}  // namespace rxipc
