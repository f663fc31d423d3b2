// The per-environment registry and its teardown hook (see registry.h).
#include "registry.h"

#include <vector>

#include "handle.h"

namespace rxipc {

void Registry::Install(Napi::Env env) {
    // Each load of the addon gets its own napi_env, so this runs once per environment.
    auto* registry = new Registry();
    napi_status status = napi_get_uv_event_loop(env, &registry->loop_);
    if (status == napi_ok) {
        status = napi_set_instance_data(
            env, registry, [](napi_env, void* data, void*) { delete static_cast<Registry*>(data); },
            nullptr);
    }
    if (status != napi_ok) {
        delete registry;
        NAPI_THROW_IF_FAILED_VOID(env, status);
    }
    // An async cleanup hook, not a plain one: closing a uv_poll_t completes in a later loop
    // turn, and Node keeps running the loop until the hook says it is done (napi docs,
    // napi_add_async_cleanup_hook). Node also keeps the napi_env alive until then.
    NAPI_THROW_IF_FAILED_VOID(
        env, napi_add_async_cleanup_hook(env, &Registry::OnTeardown, registry, nullptr));
}

Registry& Registry::Of(Napi::Env env) {
    void* data = nullptr;
    napi_get_instance_data(env, &data);
    return *static_cast<Registry*>(data);
}

/* Runs when the environment is torn down (the loop ended, process.exit() in a worker,
   worker.terminate()). JS can no longer run. Closes every live handle: waiters wake and join
   their threads, watchers uv_close, descriptors close. The hook is removed (telling Node it is
   done) once the last uv_close callback has run. Finalizers run after this, and free. */
void Registry::OnTeardown(napi_async_cleanup_hook_handle hook, void* data) {
    auto* registry = static_cast<Registry*>(data);
    // Close() does not change live_, but copy anyway: teardown must not depend on that.
    std::vector<Handle*> live(registry->live_.begin(), registry->live_.end());
    for (Handle* handle : live) handle->Close();

    if (registry->uv_closing_ == 0) {
        napi_remove_async_cleanup_hook(hook);
    } else {
        registry->pending_hook_ = hook;
    }
}

void Registry::EndUvClose() {
    if (--uv_closing_ == 0 && pending_hook_ != nullptr) {
        napi_async_cleanup_hook_handle hook = pending_hook_;
        pending_hook_ = nullptr;
        napi_remove_async_cleanup_hook(hook);
    }
}

}  // namespace rxipc
