// How each file adds its functions to the module's exports (addon.cc calls the Export*
// functions below, one per file).
#pragma once

#include <napi.h>

#include <cerrno>
#include <new>
#include <system_error>

#include "errors.h"

namespace rxipc {

void ExportErrors(Napi::Env env, Napi::Object exports);      // errors.cc
void ExportFd(Napi::Env env, Napi::Object exports);          // fd.cc
void ExportFdWatcher(Napi::Env env, Napi::Object exports);   // fd_watcher.cc
void ExportEventfd(Napi::Env env, Napi::Object exports);     // eventfd.cc
void ExportWaiter(Napi::Env env, Napi::Object exports);      // waiter.cc
void ExportFdWaiter(Napi::Env env, Napi::Object exports);    // fd_waiter.cc
void ExportPosixMq(Napi::Env env, Napi::Object exports);     // posix_mq.cc
void ExportSysvMsg(Napi::Env env, Napi::Object exports);     // sysv_msg.cc
void ExportFifo(Napi::Env env, Napi::Object exports);        // fifo.cc
void ExportSocket(Napi::Env env, Napi::Object exports);      // socket.cc
void ExportProcess(Napi::Env env, Napi::Object exports);     // process.cc
void ExportShm(Napi::Env env, Napi::Object exports);         // shm.cc
void ExportPosixShm(Napi::Env env, Napi::Object exports);    // posix_shm.cc
void ExportSysvShm(Napi::Env env, Napi::Object exports);     // sysv_shm.cc
void ExportMemfd(Napi::Env env, Napi::Object exports);       // memfd.cc
void ExportFutex(Napi::Env env, Napi::Object exports);       // futex.cc
void ExportLockWaiter(Napi::Env env, Napi::Object exports);  // lock_waiter.cc
void ExportPosixSem(Napi::Env env, Napi::Object exports);    // posix_sem.cc
void ExportSysvSem(Napi::Env env, Napi::Object exports);     // sysv_sem.cc
void ExportFlock(Napi::Env env, Napi::Object exports);       // flock.cc
// robust_mutex.cc
void ExportRobustMutex(Napi::Env env, Napi::Object exports);

// node-addon-api turns a thrown Napi::Error into a JS exception, but any other C++ exception
// would unwind into Node's C code and terminate the process. This wrapper converts the ones
// the standard library can throw (bad_alloc from a huge string, system_error from
// std::thread) into JS errors.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
    try {
        return F(info);
    } catch (const Napi::Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw ErrnoError(info.Env(), ENOMEM, "malloc");
    } catch (const std::system_error& e) {
        throw ErrnoError(info.Env(), e.code().value(), "pthread_create");
    } catch (const std::exception& e) {
        throw Napi::Error::New(info.Env(), e.what());
    }
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void SetFunction(Napi::Env env, Napi::Object exports, const char* name) {
    exports.Set(name, Napi::Function::New<Guarded<F>>(env, name));
}

}  // namespace rxipc
