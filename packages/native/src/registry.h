// The per-environment registry: every live handle of one Node environment (the main thread or
// one worker), and the cleanup hook that closes them when the environment is torn down.
//
// It lives in the environment's instance data (napi_set_instance_data), which Node frees after
// every finalizer has run, so handles can always reach it. Only the environment's own thread
// touches it.
#pragma once

#include <napi.h>
#include <uv.h>

#include <unordered_set>

namespace rxipc {

class Handle;

class Registry {
  public:
    // Creates the registry for `env` and registers the cleanup hook. Called once, at module init.
    static void Install(Napi::Env env);
    static Registry& Of(Napi::Env env);

    uv_loop_t* loop() const { return loop_; }

    void Add(Handle* handle) { live_.insert(handle); }
    void Remove(Handle* handle) { live_.erase(handle); }

    // Waiter threads running now (waiterCount).
    int waiter_threads = 0;

    // A uv_close() whose callback has not run yet. Teardown waits for these: a worker's loop
    // must hold no handles when Node closes it, and the callback must find this registry.
    void BeginUvClose() { ++uv_closing_; }
    void EndUvClose();

  private:
    Registry() = default;
    static void OnTeardown(napi_async_cleanup_hook_handle hook, void* data);

    uv_loop_t* loop_ = nullptr;
    std::unordered_set<Handle*> live_;
    int uv_closing_ = 0;
    napi_async_cleanup_hook_handle pending_hook_ = nullptr;  // set while teardown waits
};

}  // namespace rxipc
