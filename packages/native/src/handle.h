// Type-tagged handles: the JS side of every kernel object the addon owns.
//
// A handle is a JS external (typeof 'object', no properties) carrying a C++ Handle. Each kind
// carries its own 128-bit type tag (napi_type_tag_object), so a watcher passed where a
// descriptor is expected is a TypeError, never a bad cast.
//
// Who owns what:
// - The external owns the C++ object: its finalizer (run after the JS object is collected, or
//   at environment teardown) closes the kernel object if the program forgot, then frees the
//   C++ object. Nothing else frees it (Waiter adds one co-owner; see waiter.h), so a handle
//   reachable from JS always points at live memory, open or closed.
// - Close() releases the kernel object only. A closed handle stays a valid JS object that
//   reports closed (ERR_RXIPC_BAD_HANDLE, or -1 from fdNumber).
// - The environment's Registry (registry.h) lists every live handle and closes them all when
//   the environment is torn down (worker exit, process exit), before any finalizer runs.
//   Since that hook only closes and finalizers only free, they cannot double-free.
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>

#include "errors.h"

namespace rxipc {

class Registry;

enum class HandleKind {
    kFd,
    kFdWatcher,
    kWaiter,
    kSysvMsg,
    kShmMapping,
    kSysvShm,
    kPosixSem,
    kSysvSem,
    kRobustMutex,
    kCondVar,
};

class Handle {
  public:
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    virtual ~Handle() = default;

    HandleKind kind() const { return kind_; }
    bool closed() const { return closed_; }
    Napi::Env env() const { return env_; }

    // Releases the kernel object. Idempotent; never throws and never calls JS, so the
    // finalizer and the environment cleanup hook can use it. Returns 0, or the errno of the
    // last failing step (for fdClose to report).
    int Close();

  protected:
    Handle(Napi::Env env, HandleKind kind);

    // What Close() does, once.
    virtual int DoClose() = 0;

    // Keeps the JS object (and so this object and whatever it references) alive while the
    // handle is active: a started watcher or an armed waiter keeps working when the program
    // drops its last reference, as Node's own handles do. Idempotent.
    void Pin();
    void Unpin();

    // Called by the external's finalizer after Close(). Frees the object; a subclass that has
    // another owner (a thread-safe function) overrides this to wait for that owner too.
    virtual void Release() { delete this; }

    Napi::Env env_;
    Registry* registry_;

  private:
    friend Napi::Value WrapHandle(Napi::Env env, Handle* handle);
    static void Finalize(napi_env env, void* data, void* hint);

    HandleKind kind_;
    bool closed_ = false;
    bool pinned_ = false;
    napi_ref self_ = nullptr;  // weak unless pinned; deleted by the finalizer
};

// A strong reference to `value`, for a handle that must keep a JS value alive until closed.
// Raw napi_ref rather than Napi::Reference, whose Reset() throws: releasing happens in Close(),
// which runs in finalizers and the teardown hook, where nothing may throw. Throws on failure.
napi_ref StrongReference(Napi::Env env, Napi::Value value);
// Drops a reference from StrongReference (nullptr is fine) and clears it. Never throws.
void DropReference(napi_env env, napi_ref& ref);

// Gives `handle` a type-tagged external and registers it with the environment. Takes ownership
// even when it throws (the handle is closed and freed then).
Napi::Value WrapHandle(Napi::Env env, Handle* handle);

// Finds the handle behind a JS value. Throws TypeError ERR_INVALID_ARG_TYPE for a value that
// is not an object, and TypeError ERR_RXIPC_BAD_HANDLE for a foreign object, a handle of
// another kind, or (unless allow_closed) a closed handle. Runs no user code.
Handle& UnwrapAny(Napi::Env env, Napi::Value value, HandleKind kind, const char* name,
                  bool allow_closed);

// The typed form: T names its kind as `static constexpr HandleKind kKind`.
template <typename T>
T& UnwrapHandle(const Napi::CallbackInfo& info, size_t index, const char* name = "handle",
                bool allow_closed = false) {
    return static_cast<T&>(UnwrapAny(info.Env(), info[index], T::kKind, name, allow_closed));
}

}  // namespace rxipc
