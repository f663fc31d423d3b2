// Module init: one environment (main thread or worker) loads the addon; this builds its
// registry and exports everything binding.ts declares.
#include <napi.h>

#include "export.h"
#include "registry.h"

namespace rxipc {

// binding.ts's Binding.version: bump when that interface changes incompatibly.
constexpr int kVersion = 1;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Registry::Install(env);
    exports.Set("version", Napi::Number::New(env, kVersion));
    ExportErrors(env, exports);
    ExportFd(env, exports);
    ExportFdWatcher(env, exports);
    ExportEventfd(env, exports);
    ExportWaiter(env, exports);
    ExportFdWaiter(env, exports);
    ExportPosixMq(env, exports);
    ExportSysvMsg(env, exports);
    ExportFifo(env, exports);
    ExportSocket(env, exports);
    ExportProcess(env, exports);
    ExportShm(env, exports);
    ExportPosixShm(env, exports);
    ExportSysvShm(env, exports);
    ExportMemfd(env, exports);
    ExportFutex(env, exports);
    ExportLockWaiter(env, exports);
    ExportPosixSem(env, exports);
    ExportSysvSem(env, exports);
    ExportFlock(env, exports);
    ExportRobustMutex(env, exports);
    return exports;
}

}  // namespace rxipc

// The macro pastes the name into an identifier, so it must be unqualified.
static Napi::Object InitRxipc(Napi::Env env, Napi::Object exports) {
    return rxipc::Init(env, exports);
}
NODE_API_MODULE(rxipc, InitRxipc)
