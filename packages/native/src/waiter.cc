// The owned-waiter-thread facility (see waiter.h for the lifecycle and who owns what).
#include "waiter.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <new>
#include <system_error>

#include "export.h"
#include "registry.h"

namespace rxipc {

Waiter::Waiter(Napi::Env env) : Handle(env, kKind) {}

void Waiter::Start(Napi::Function callback) {
    napi_status status = napi_create_threadsafe_function(
        env_, callback, nullptr, Napi::String::New(env_, "rxipc:Waiter"),
        /*max_queue_size=*/0,        // unbounded: the thread never blocks on a full queue
        /*initial_thread_count=*/1,  // the waiter thread; released by Close after the join
        /*thread_finalize_data=*/this, OnTsfnFinalized, /*context=*/this, CallJs, &tsfn_);
    if (status != napi_ok) {
        Napi::Error error = Napi::Error::New(env_);
        Close();
        throw error;
    }
    tsfn_usable_ = true;
    tsfn_finalized_ = false;
    // A new TSFN is ref'd, matching a new waiter: armed.
    active_ = true;
    Pin();

    // The thread starts with every signal blocked (pthread_create(3): "The new thread inherits
    // a copy of the creating thread's signal mask"), so signals meant for the process
    // (SIGINT, SIGCHLD...) are taken by Node's own threads and never land in a wait.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
        thread_ = std::thread(&Waiter::ThreadMain, this);
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        Close();
        throw ErrnoError(env_, e.code().value(), "pthread_create");
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    registry_->waiter_threads++;
}

void Waiter::Arm() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (armed_ || stop_) return;
        armed_ = true;
    }
    armed_changed_.notify_one();
    UpdateActive();
}

// The thread: sleep while disarmed, wait while armed, report, repeat until stop_.
void Waiter::ThreadMain() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            armed_changed_.wait(lock, [this] { return armed_ || stop_; });
            if (stop_) return;
        }

        Outcome outcome = Wait();
        if (outcome.kind == Outcome::kWoken) continue;  // re-check stop_ and armed_

        std::unique_ptr<Report> report(new (std::nothrow) Report{outcome});
        if (!report) {
            // Out of memory: try again shortly rather than lose the report or spin.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stop_) return;
            armed_ = false;
            pending_++;
        }
        // The TSFN is alive here: Close() releases it only after joining this thread, and at
        // teardown the registry's hook joins us before the loop turns again (which is when a
        // TSFN closed by Node's own cleanup would be freed).
        if (napi_call_threadsafe_function(tsfn_, report.get(), napi_tsfn_nonblocking) != napi_ok) {
            // napi_closing: the environment is going away; nobody will read reports again.
            std::lock_guard<std::mutex> lock(mutex_);
            pending_--;
            return;
        }
        report.release();  // now owned by the TSFN queue; CallJs frees it
    }
}

/* Main thread, from the TSFN. With env == nullptr the TSFN is being torn down with this report
   still queued: free it, and touch nothing else (the waiter may be gone). Otherwise deliver.
   A JS exception thrown by the callback arrives here as a Napi::Error and is raised as an
   uncaught exception with napi_fatal_exception, as for a watcher's callback. Leaving it
   pending instead would not do: for addons built against Node-API 8, Node 20 swallows an
   exception left pending by a TSFN callback and only prints DEP0168. */
void Waiter::CallJs(napi_env env, napi_value callback, void* context, void* data) {
    std::unique_ptr<Report> report(static_cast<Report*>(data));
    if (env == nullptr || callback == nullptr) return;
    try {
        static_cast<Waiter*>(context)->Deliver(Napi::Env(env), Napi::Function(env, callback),
                                               *report);
    } catch (const Napi::Error& e) {
        napi_fatal_exception(env, e.Value());
    } catch (...) {
        // Nothing may unwind into Node's C code.
    }
}

void Waiter::Deliver(Napi::Env env, Napi::Function callback, const Report& report) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_--;
    }
    // A report that raced with close is dropped: after waiterClose, JS hears nothing.
    if (closed()) return;
    UpdateActive();

    const Outcome& outcome = report.outcome;
    Napi::Value argument = outcome.kind == Outcome::kError
                               ? ErrnoError(env, outcome.err, outcome.syscall).Value()
                               : env.Null();
    // `this` may be closed by the callback; it is not touched afterwards.
    callback.Call({argument});
}

// Refs the TSFN and pins the JS object exactly while armed or a report is on its way, so an
// idle waiter neither keeps the process alive nor survives being dropped.
void Waiter::UpdateActive() {
    bool active;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        active = armed_ || pending_ > 0;
    }
    if (active == active_ || !tsfn_usable_) return;
    if (active) {
        napi_ref_threadsafe_function(env_, tsfn_);
        Pin();
    } else {
        napi_unref_threadsafe_function(env_, tsfn_);
        Unpin();
    }
    active_ = active;
}

int Waiter::DoClose() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        armed_ = false;
    }
    armed_changed_.notify_all();
    Wake();
    if (thread_.joinable()) {
        thread_.join();
        registry_->waiter_threads--;
    }
    // The thread is gone, so this is the TSFN's last user. Reports still queued are handed to
    // CallJs, which drops them (closed()), and then the TSFN finalizes.
    if (tsfn_usable_) napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
    tsfn_usable_ = false;
    active_ = false;
    ReleaseWaitResources();
    return 0;
}

void Waiter::Release() {
    external_released_ = true;
    if (tsfn_finalized_) delete this;
}

// Main thread, when the TSFN is freed: after Close released it, or at environment teardown.
void Waiter::OnTsfnFinalized(napi_env /*env*/, void* data, void* /*hint*/) {
    auto* self = static_cast<Waiter*>(data);
    self->tsfn_finalized_ = true;
    self->tsfn_usable_ = false;
    if (self->external_released_) delete self;
}

namespace {

/* waiterArm(waiter: WaiterHandle): void
   Asks the waiter to wait again after a report. No-op when armed. While armed, the waiter
   keeps the event loop and its JS object alive. TypeError ERR_RXIPC_BAD_HANDLE when closed. */
Napi::Value WaiterArm(const Napi::CallbackInfo& info) {
    UnwrapHandle<Waiter>(info, 0, "waiter").Arm();
    return info.Env().Undefined();
}

/* waiterClose(waiter: WaiterHandle): void
   Wakes the thread, joins it and releases the thread-safe function: when this returns, the
   thread has exited and the callback will not be called again. Idempotent. */
Napi::Value WaiterClose(const Napi::CallbackInfo& info) {
    UnwrapHandle<Waiter>(info, 0, "waiter", /*allow_closed=*/true).Close();
    return info.Env().Undefined();
}

/* waiterCount(): number
   Waiter threads running in this environment now (other workers have their own count). */
Napi::Value WaiterCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Registry::Of(info.Env()).waiter_threads);
}

}  // namespace

void ExportWaiter(Napi::Env env, Napi::Object exports) {
    SetFunction<WaiterArm>(env, exports, "waiterArm");
    SetFunction<WaiterClose>(env, exports, "waiterClose");
    SetFunction<WaiterCount>(env, exports, "waiterCount");
}

}  // namespace rxipc
