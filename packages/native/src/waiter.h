// The owned-waiter-thread facility: for kernel objects that give no descriptor to poll
// (semaphores, System V queues, futexes), a native thread owned by the handle blocks in the
// wait and reports to JS through a thread-safe function. Never the libuv pool: its four
// threads are shared with fs and dns, and a parked wait would starve them.
//
// Lifecycle:
//   armed --(thread: Wait() returns ready or error)--> report queued --(loop: callback)-->
//   disarmed --(waiterArm)--> armed ...
//   any --(waiterClose / fd closed / finalizer / env teardown)--> closed
//
// Threads and ownership:
// - The thread touches only the mutex-guarded state (armed_, stop_, pending_), its subclass's
//   Wait()/Wake(), and napi_call_threadsafe_function. Everything else is main-thread only.
// - Close() sets stop_, calls Wake() (the subclass's way to interrupt its blocking call) and
//   joins: it returns only when the thread has exited. Then it releases the thread-safe
//   function (TSFN). A report still queued after that is dropped, never delivered to JS.
// - The TSFN holds this object as its context until its own finalizer runs, which may be
//   after the JS object was collected. So the object has two owners, the JS external and the
//   TSFN, and is freed when both have let go (Release and OnTsfnFinalized).
// - The TSFN keeps the loop alive (napi_ref_threadsafe_function) exactly while the waiter is
//   armed or a report is on its way; the same condition pins the JS object.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "handle.h"

namespace rxipc {

class Waiter : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kWaiter;

    // What one Wait() came to.
    struct Outcome {
        enum Kind { kReady, kWoken, kError } kind;
        int err = 0;                    // kError: errno
        const char* syscall = nullptr;  // kError: the call that failed (a string literal)
    };

    // Asks for one more report. No-op when armed. Main thread.
    void Arm();

    // Creates the TSFN that calls `callback`, starts the thread, armed. Main thread, once,
    // after the handle is wrapped. Throws on failure, leaving the waiter closed.
    void Start(Napi::Function callback);

  protected:
    explicit Waiter(Napi::Env env);

    // Waiter thread: blocks until the object is ready (kReady), Wake() was called (kWoken; a
    // spurious kWoken is harmless), or the wait failed (kError). Must not touch JS.
    virtual Outcome Wait() = 0;
    // Any thread, any time (before, during or after Wait): makes the current or the next
    // Wait() return kWoken promptly. The thread starts with every signal blocked, so a Wake()
    // that interrupts the wait with a signal must have Wait() unblock that signal first.
    virtual void Wake() = 0;
    // Main thread, once, after the thread has been joined: release the subclass's resources.
    virtual void ReleaseWaitResources() = 0;

    int DoClose() final;
    void Release() final;

  private:
    struct Report {
        Outcome outcome;
    };

    void ThreadMain();
    void Deliver(Napi::Env env, Napi::Function callback, const Report& report);
    void UpdateActive();

    static void CallJs(napi_env env, napi_value callback, void* context, void* data);
    static void OnTsfnFinalized(napi_env env, void* data, void* hint);

    std::mutex mutex_;
    std::condition_variable armed_changed_;
    bool armed_ = true;  // guarded by mutex_
    bool stop_ = false;  // guarded by mutex_
    int pending_ = 0;    // guarded by mutex_: reports queued in the TSFN, not yet delivered

    std::thread thread_;
    napi_threadsafe_function tsfn_ = nullptr;
    bool tsfn_usable_ = false;    // created, not released, not finalized
    bool tsfn_finalized_ = true;  // true until a TSFN exists
    bool external_released_ = false;
    bool active_ = false;  // TSFN ref'd and the JS object pinned
};

}  // namespace rxipc
