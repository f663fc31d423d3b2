// Robust process-shared pthread mutexes and condition variables, placed in a shared-memory
// mapping (shm.h).
//
// pthread_mutexattr_setrobust(3): "If the owner dies without unlocking the mutex, any future
// calls to pthread_mutex_lock() on this mutex will succeed and return EOWNERDEAD to indicate
// that the original owner no longer exists and the mutex is in an inconsistent state ... the
// next owner should make the mutex consistent (pthread_mutex_consistent(3)) before unlocking
// it", and "If the inconsistent mutex is unlocked without a call to pthread_mutex_consistent(),
// it will be in a permanently unusable state": later lockers get ENOTRECOVERABLE.
//
// Ownership is per thread. The owner is the lock waiter's thread, so locking, unlocking,
// pthread_mutex_consistent (which makes the caller the owner) and pthread_cond_wait all run
// on that thread, as commands (lock_waiter.h). A waiter closed while it holds the mutex lets
// its thread exit holding it: the kernel's robust-futex list then marks it owner-died for the
// next locker, exactly as when the process dies.
//
// Waking: no signal interrupts pthread_mutex_lock or pthread_cond_wait (pthread_mutex_lock(3p)
// and pthread_cond_wait(3p): after a handler "the thread shall resume waiting"). So the thread
// waits in timed slices and checks the cancel flag between them: pthread_mutex_clocklock with
// 10 ms (a timed-out mutex waiter consumes no wake-up: the kernel requeues FUTEX_WAKE to the
// next waiter), and one pthread_cond_clockwait of the caller's timeout per command, reported as
// a wake-up even when it timed out. Timing out and re-waiting inside would lose a signal that
// lands at the timeout (glibc's __condvar_cancel_waiting hands the consumed signal on to other
// waiters, not to our next wait); POSIX allows spurious wake-ups and callers re-check their
// predicate anyway. Cancelling or closing ends a condition wait at once with a broadcast
// (MutexWaiter::InterruptCall).
#include <pthread.h>
#include <time.h>

#include <cerrno>
#include <climits>

#include "args.h"
#include "export.h"
#include "lock_waiter.h"
#include "shm.h"

namespace rxipc {
namespace {

constexpr long kLockSliceNanos = 10 * 1000 * 1000;

// Where a shared object lives: its mapping (kept alive by a reference) and its dependents.
template <typename T, HandleKind Kind>
class SharedObject final : public Handle {
  public:
    static constexpr HandleKind kKind = Kind;

    SharedObject(Napi::Env env, T* object, ShmMapping& mapping, Napi::Value mapping_object)
        : Handle(env, kKind),
          object_(object),
          mapping_(&mapping),
          mapping_ref_(Napi::Reference<Napi::Value>::New(mapping_object, 1)) {
        mapping.Attach(this);
    }

    T* get() const { return object_; }
    Dependents& dependents() { return dependents_; }

  protected:
    int DoClose() override {
        // Waiters first: their threads must be gone before the mapping can be.
        dependents_.CloseAll();
        mapping_->Detach(this);
        mapping_ = nullptr;
        mapping_ref_.Reset();
        object_ = nullptr;
        return 0;
    }

  private:
    T* object_;
    ShmMapping* mapping_;
    Napi::Reference<Napi::Value> mapping_ref_;
    Dependents dependents_;
};

using RobustMutex = SharedObject<pthread_mutex_t, HandleKind::kRobustMutex>;
using CondVar = SharedObject<pthread_cond_t, HandleKind::kCondVar>;

struct timespec Deadline(long nanos) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_sec += nanos / 1000000000L;
    now.tv_nsec += nanos % 1000000000L;
    if (now.tv_nsec >= 1000000000L) {
        now.tv_sec += 1;
        now.tv_nsec -= 1000000000L;
    }
    return now;
}

class MutexWaiter final : public LockWaiter {
  public:
    MutexWaiter(Napi::Env env, RobustMutex& mutex, Napi::Value mutex_object)
        : LockWaiter(env),
          mutex_(&mutex),
          mutex_ref_(Napi::Reference<Napi::Value>::New(mutex_object, 1)),
          target_(mutex.get()) {
        mutex.dependents().Attach(this);
    }

    // Main thread: starts a condition wait (the waiter must hold the mutex). The waiter
    // attaches to the condition's handle for as long as it may use its memory.
    bool StartCondWait(CondVar& cond, Napi::Value cond_object, int64_t timeout_ms,
                       bool mark_consistent) {
        if (closed() || state() != State::kHeld) return false;
        DetachCond();
        cond_ = &cond;
        cond_ref_ = Napi::Reference<Napi::Value>::New(cond_object, 1);
        cond.dependents().Attach(this);
        cond_target_ = cond.get();
        cond_timeout_nanos_ = timeout_ms * 1000000L;
        consistent_before_wait_ = mark_consistent;
        return StartCommand(State::kHeld, State::kCondWaiting);
    }

  protected:
    int Acquire(const char** syscall) override {
        for (;;) {
            if (Interrupted()) return ECANCELED;
            struct timespec deadline = Deadline(kLockSliceNanos);
            int err = pthread_mutex_clocklock(target_, CLOCK_MONOTONIC, &deadline);
            if (err == 0 || err == EOWNERDEAD) return err;
            if (err == ETIMEDOUT) continue;
            *syscall = "pthread_mutex_lock";
            return err;
        }
    }

    int ReleaseAcquired(bool mark_consistent, const char** syscall) override {
        if (mark_consistent) {
            // EINVAL: it is consistent already (nobody died), which is what was asked.
            int err = pthread_mutex_consistent(target_);
            if (err != 0 && err != EINVAL) {
                *syscall = "pthread_mutex_consistent";
                return err;
            }
        }
        int err = pthread_mutex_unlock(target_);
        if (err != 0) *syscall = "pthread_mutex_unlock";
        return err;
    }

    bool ReleasesOnThread() const override { return true; }

    // Main thread (cancel, close). No signal ends pthread_cond_wait, but a broadcast does, so
    // cancelling or closing does not sit out the wait's timeout (close joins the thread on the
    // event loop). Others waiting on the condition get a spurious wake-up, which POSIX allows
    // and every caller re-checks for. cond_ is set only while the condition's memory is
    // attached (its close closes this waiter first), so cond_target_ is mapped here. What
    // remains: the woken thread re-takes the mutex, which waits while another process holds it.
    void InterruptCall() override {
        if (cond_ != nullptr && state() == State::kCondWaiting) {
            pthread_cond_broadcast(cond_target_);
        }
    }

    // The condition's memory is used only while waiting on it; after that, closing the
    // condition must not close this waiter (which would leave the mutex owner-died).
    void BeforeCommand(State next) override {
        if (next != State::kCondWaiting) DetachCond();
    }

    int CondWait(const char** syscall) override {
        if (consistent_before_wait_) {
            int err = pthread_mutex_consistent(target_);
            if (err != 0 && err != EINVAL) {
                *syscall = "pthread_mutex_consistent";
                return err;
            }
        }
        if (Interrupted()) return ECANCELED;
        struct timespec deadline = Deadline(cond_timeout_nanos_);
        int err = pthread_cond_clockwait(cond_target_, target_, CLOCK_MONOTONIC, &deadline);
        if (err == 0 || err == EOWNERDEAD) return err;
        if (err == ETIMEDOUT) return Interrupted() ? ECANCELED : 0;
        *syscall = "pthread_cond_wait";
        return err;
    }

    void DetachTarget() override {
        DetachCond();
        if (mutex_ == nullptr) return;
        mutex_->dependents().Detach(this);
        mutex_ = nullptr;
        mutex_ref_.Reset();
    }

  private:
    void DetachCond() {
        if (cond_ == nullptr) return;
        cond_->dependents().Detach(this);
        cond_ = nullptr;
        cond_ref_.Reset();
    }

    RobustMutex* mutex_;
    Napi::Reference<Napi::Value> mutex_ref_;
    pthread_mutex_t* const target_;
    CondVar* cond_ = nullptr;
    Napi::Reference<Napi::Value> cond_ref_;
    // Written by the main thread before it arms a condition wait; read by the thread then.
    pthread_cond_t* cond_target_ = nullptr;
    long cond_timeout_nanos_ = 0;
    bool consistent_before_wait_ = false;
};

Napi::Error PthreadError(Napi::Env env, int err, const char* syscall) {
    const char* hint = nullptr;
    if (err == ENOTRECOVERABLE) {
        hint =
            "a previous owner died and the next one unlocked without marking it consistent; "
            "initialize the mutex again once nobody uses it";
    }
    return ErrnoError(env, err, syscall, nullptr, hint);
}

template <typename T>
T* Place(const Napi::CallbackInfo& info, ShmMapping** mapping) {
    Napi::Env env = info.Env();
    int64_t offset = IntegerArg(info, 1, "offset", 0, kMaxSafeInteger);
    *mapping = &UnwrapHandle<ShmMapping>(info, 0, "mapping");
    if (!(*mapping)->writable()) {
        throw ErrnoError(env, EACCES, "mmap", nullptr,
                         "the mapping is read-only; a mutex or condition needs a writable one");
    }
    return static_cast<T*>((*mapping)->At(env, offset, sizeof(T), alignof(T), "offset"));
}

/* robustMutexInit(mapping: ShmMappingHandle, offset: number): RobustMutexHandle
   pthread_mutex_init at `offset` (a multiple of 8 with 40 bytes inside the mapping; RangeError
   otherwise) with PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST and PTHREAD_MUTEX_ERRORCHECK.
   One process initializes, once, while nobody uses it; the others robustMutexAttach.
   Errors (syscall 'pthread_mutex_init'): EAGAIN, ENOMEM. */
Napi::Value RobustMutexInit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping* mapping = nullptr;
    auto* mutex = Place<pthread_mutex_t>(info, &mapping);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    int err = pthread_mutex_init(mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err != 0) throw PthreadError(env, err, "pthread_mutex_init");
    return WrapHandle(env, new RobustMutex(env, mutex, *mapping, info[0]));
}

/* robustMutexAttach(mapping: ShmMappingHandle, offset: number): RobustMutexHandle
   A handle on the mutex another process initialized at `offset` (checked as above). */
Napi::Value RobustMutexAttach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping* mapping = nullptr;
    auto* mutex = Place<pthread_mutex_t>(info, &mapping);
    return WrapHandle(env, new RobustMutex(env, mutex, *mapping, info[0]));
}

/* robustMutexClose(mutex: RobustMutexHandle): void
   Closes the handle and its waiters (threads joined; one that held the mutex exits holding
   it, so the next locker gets EOWNERDEAD). Idempotent. The memory is the mapping's. */
Napi::Value RobustMutexClose(const Napi::CallbackInfo& info) {
    UnwrapHandle<RobustMutex>(info, 0, "mutex", /*allow_closed=*/true).Close();
    return info.Env().Undefined();
}

/* robustMutexWaiter(mutex: RobustMutexHandle, callback: (error: SystemError | null) => void):
   WaiterHandle
   A lock waiter (lock_waiter.h) whose thread locks the mutex, starting now, and then owns it:
   lockWaiterState says 'acquired' or 'owner-dead' (the previous owner died holding it).
   Releasing (lockWaiterRelease, optionally markConsistent) unlocks on that thread and reports
   'released'. Cancel is noticed within 10 ms. Errors reported: ENOTRECOVERABLE (syscall
   'pthread_mutex_lock'), EDEADLK. */
Napi::Value RobustMutexWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function callback = FunctionArg(info, 1, "callback");
    RobustMutex& mutex = UnwrapHandle<RobustMutex>(info, 0, "mutex");
    auto* waiter = new MutexWaiter(env, mutex, info[0]);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

/* robustMutexCondWait(waiter: WaiterHandle, cond: CondVarHandle, options?: { timeoutMs?: number;
                       markConsistent?: boolean }): void
   On a mutex waiter that holds the mutex: its thread calls pthread_cond_clockwait (the mutex is
   released while waiting and held again after), for at most timeoutMs (1 .. 2^31-1, default
   100). Reports 'signaled' when it woke, whether by a signal, a broadcast, spuriously or at the
   timeout (check the predicate and wait again), 'owner-dead' when it got the mutex back from a
   dead owner, 'cancelled' after lockWaiterCancel; the mutex is held again in every case.
   markConsistent calls pthread_mutex_consistent first (waiting on an inconsistent mutex would
   unlock it unrepaired). EBUSY (syscall 'robustMutexCondWait') unless the waiter holds. */
Napi::Value RobustMutexCondWait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    int64_t timeout_ms =
        OptionalIntegerOption(options, "timeoutMs", "options.timeoutMs", 1, INT_MAX).value_or(100);
    bool consistent = BoolOption(options, "markConsistent", "options.markConsistent", false);
    CondVar& cond = UnwrapHandle<CondVar>(info, 1, "cond");
    Waiter& waiter = UnwrapHandle<Waiter>(info, 0, "waiter");
    LockWaiter* lock_waiter = LockWaiter::From(waiter);
    // Only mutex waiters release on their thread (the build has no RTTI to ask otherwise).
    if (lock_waiter == nullptr || !lock_waiter->ReleasesOnThread()) {
        throw BadHandleError(env, "waiter", "an open robust mutex waiter handle",
                             "a waiter of another kind");
    }
    auto* mutex_waiter = static_cast<MutexWaiter*>(lock_waiter);
    if (!mutex_waiter->StartCondWait(cond, info[1], timeout_ms, consistent)) {
        throw ErrnoError(env, EBUSY, "robustMutexCondWait", nullptr,
                         "the waiter must hold the mutex, and do nothing else, to wait");
    }
    return env.Undefined();
}

/* condInit(mapping: ShmMappingHandle, offset: number): CondVarHandle
   pthread_cond_init at `offset` (a multiple of 8 with 48 bytes inside the mapping) with
   PTHREAD_PROCESS_SHARED and CLOCK_MONOTONIC. One process initializes; others condAttach. */
Napi::Value CondInit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping* mapping = nullptr;
    auto* cond = Place<pthread_cond_t>(info, &mapping);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int err = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    if (err != 0) throw PthreadError(env, err, "pthread_cond_init");
    return WrapHandle(env, new CondVar(env, cond, *mapping, info[0]));
}

/* condAttach(mapping: ShmMappingHandle, offset: number): CondVarHandle
   A handle on the condition another process initialized at `offset`. */
Napi::Value CondAttach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping* mapping = nullptr;
    auto* cond = Place<pthread_cond_t>(info, &mapping);
    return WrapHandle(env, new CondVar(env, cond, *mapping, info[0]));
}

/* condSignal(cond: CondVarHandle): void — pthread_cond_signal: wakes one waiter, any process.
   Never blocks. */
Napi::Value CondSignal(const Napi::CallbackInfo& info) {
    CondVar& cond = UnwrapHandle<CondVar>(info, 0, "cond");
    int err = pthread_cond_signal(cond.get());
    if (err != 0) throw PthreadError(info.Env(), err, "pthread_cond_signal");
    return info.Env().Undefined();
}

/* condBroadcast(cond: CondVarHandle): void — pthread_cond_broadcast: wakes every waiter. */
Napi::Value CondBroadcast(const Napi::CallbackInfo& info) {
    CondVar& cond = UnwrapHandle<CondVar>(info, 0, "cond");
    int err = pthread_cond_broadcast(cond.get());
    if (err != 0) throw PthreadError(info.Env(), err, "pthread_cond_broadcast");
    return info.Env().Undefined();
}

/* condClose(cond: CondVarHandle): void
   Closes the handle, and the mutex waiters waiting on it (joined). Idempotent. */
Napi::Value CondClose(const Napi::CallbackInfo& info) {
    UnwrapHandle<CondVar>(info, 0, "cond", /*allow_closed=*/true).Close();
    return info.Env().Undefined();
}

}  // namespace

void ExportRobustMutex(Napi::Env env, Napi::Object exports) {
    SetFunction<RobustMutexInit>(env, exports, "robustMutexInit");
    SetFunction<RobustMutexAttach>(env, exports, "robustMutexAttach");
    SetFunction<RobustMutexClose>(env, exports, "robustMutexClose");
    SetFunction<RobustMutexWaiterJs>(env, exports, "robustMutexWaiter");
    SetFunction<RobustMutexCondWait>(env, exports, "robustMutexCondWait");
    SetFunction<CondInit>(env, exports, "condInit");
    SetFunction<CondAttach>(env, exports, "condAttach");
    SetFunction<CondSignal>(env, exports, "condSignal");
    SetFunction<CondBroadcast>(env, exports, "condBroadcast");
    SetFunction<CondClose>(env, exports, "condClose");
}

}  // namespace rxipc
