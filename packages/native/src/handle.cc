// Type-tagged handles (see handle.h for who owns what).
#include "handle.h"

#include <cstring>

#include "registry.h"

namespace rxipc {
namespace {

// One random 128-bit tag per kind (generated once; never reuse them for anything else).
constexpr napi_type_tag kTags[] = {
    {0x6c7a1e0f3b9d4c21, 0x8f3e5a7d2c1b9e40},  // kFd
    {0x1d5b9c3e7a2f4e68, 0xa4c7e1f05b3d9c72},  // kFdWatcher
    {0x93e2b7a51c6d4f08, 0x5e8d2a4c7f1b3e96},  // kWaiter
    {0x2f7c4e91a6b3d058, 0xc1e95a7b3d2f4806},  // kSysvMsg
    {0x8b41d2e6f03a7c95, 0x3e6a9f1c5b7d2048},  // kShmMapping
    {0x5d0e8c3a71f4b926, 0xf27b4d6e9a1c8350},  // kSysvShm
    {0x4a9d2f7e1c08b365, 0xd73e5b1a9f2c6048},  // kPosixSem
    {0xb62e0f8d4a7c3159, 0x19f4c7e2d05a8b3e},  // kSysvSem
    {0x7e15c9a3f2d84b60, 0x6b0a3d9e5c2f71d4},  // kRobustMutex
    {0xe3c8071b5d9f2a46, 0x40d6f2a8c1e97b35},  // kCondVar
};
constexpr HandleKind kKinds[] = {
    HandleKind::kFd,          HandleKind::kFdWatcher, HandleKind::kWaiter,   HandleKind::kSysvMsg,
    HandleKind::kShmMapping,  HandleKind::kSysvShm,   HandleKind::kPosixSem, HandleKind::kSysvSem,
    HandleKind::kRobustMutex, HandleKind::kCondVar};

const napi_type_tag* TagOf(HandleKind kind) { return &kTags[static_cast<int>(kind)]; }

// The names binding.ts uses for the kinds ('fd', 'fd-watcher', 'waiter').
const char* KindName(HandleKind kind) {
    switch (kind) {
        case HandleKind::kFd:
            return "fd";
        case HandleKind::kFdWatcher:
            return "fd-watcher";
        case HandleKind::kWaiter:
            return "waiter";
        case HandleKind::kSysvMsg:
            return "sysv-msg";
        case HandleKind::kShmMapping:
            return "shm-mapping";
        case HandleKind::kSysvShm:
            return "sysv-shm";
        case HandleKind::kPosixSem:
            return "posix-sem";
        case HandleKind::kSysvSem:
            return "sysv-sem";
        case HandleKind::kRobustMutex:
            return "robust-mutex";
        case HandleKind::kCondVar:
            return "cond-var";
    }
    return "unknown";
}

// Turns a failed napi call into a JS exception (node-addon-api reads the pending error).
void Check(Napi::Env env, napi_status status) {
    if (status != napi_ok) throw Napi::Error::New(env);
}

bool HasTag(Napi::Env env, napi_value value, HandleKind kind) {
    bool result = false;
    Check(env, napi_check_object_type_tag(env, value, TagOf(kind), &result));
    return result;
}

}  // namespace

Handle::Handle(Napi::Env env, HandleKind kind)
    : env_(env), registry_(&Registry::Of(env)), kind_(kind) {}

int Handle::Close() {
    if (closed_) return 0;
    closed_ = true;
    int err = DoClose();
    Unpin();
    return err;
}

void Handle::Pin() {
    if (pinned_ || self_ == nullptr) return;
    uint32_t count = 0;
    if (napi_reference_ref(env_, self_, &count) == napi_ok) pinned_ = true;
}

void Handle::Unpin() {
    if (!pinned_) return;
    uint32_t count = 0;
    napi_reference_unref(env_, self_, &count);
    pinned_ = false;
}

/* The external's finalizer: runs on the environment's thread after the JS object was collected
   (Node defers it out of the garbage collector), or at environment teardown after the
   registry's cleanup hook has closed everything. Never throws, never calls JS. */
void Handle::Finalize(napi_env env, void* data, void* /*hint*/) {
    auto* handle = static_cast<Handle*>(data);
    handle->Close();
    handle->registry_->Remove(handle);
    if (handle->self_ != nullptr) napi_delete_reference(env, handle->self_);
    handle->self_ = nullptr;
    handle->Release();
}

napi_ref StrongReference(Napi::Env env, Napi::Value value) {
    napi_ref ref = nullptr;
    Check(env, napi_create_reference(env, value, 1, &ref));
    return ref;
}

void DropReference(napi_env env, napi_ref& ref) {
    if (ref != nullptr) napi_delete_reference(env, ref);
    ref = nullptr;
}

Napi::Value WrapHandle(Napi::Env env, Handle* handle) {
    napi_value external = nullptr;
    napi_status status = napi_create_external(env, handle, Handle::Finalize, nullptr, &external);
    if (status != napi_ok) {
        Napi::Error error = Napi::Error::New(env);
        handle->Close();
        handle->Release();
        throw error;
    }
    // From here on the external owns the handle: failures below leave it to the finalizer.
    handle->registry_->Add(handle);
    Check(env, napi_type_tag_object(env, external, TagOf(handle->kind())));
    Check(env, napi_create_reference(env, external, 0, &handle->self_));
    return Napi::Value(env, external);
}

Handle& UnwrapAny(Napi::Env env, Napi::Value value, HandleKind kind, const char* name,
                  bool allow_closed) {
    // Built only for an error message: this runs on every native call with a handle.
    auto expected = [kind] { return std::string("an open ") + KindName(kind) + " handle"; };
    napi_valuetype type = value.Type();
    if (type != napi_external && type != napi_object) {
        throw ArgTypeError(env, name, expected().c_str(), value);
    }

    // Type tags are private to the engine: checking them runs no getter or Proxy trap.
    if (type != napi_external || !HasTag(env, value, kind)) {
        for (HandleKind other : kKinds) {
            if (type == napi_external && HasTag(env, value, other)) {
                const char* article = std::strchr("aeiou", KindName(other)[0]) ? "an " : "a ";
                throw BadHandleError(env, name, expected().c_str(),
                                     article + std::string(KindName(other)) + " handle");
            }
        }
        throw BadHandleError(env, name, expected().c_str(), "an object that is no rxipc handle");
    }

    void* data = nullptr;
    Check(env, napi_get_value_external(env, value, &data));
    auto* handle = static_cast<Handle*>(data);
    if (handle->closed() && !allow_closed) {
        throw BadHandleError(env, name, expected().c_str(),
                             std::string("a closed ") + KindName(kind) + " handle");
    }
    return *handle;
}

}  // namespace rxipc
