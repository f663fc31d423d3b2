// Lock waiters (see lock_waiter.h for the commands, the races and who releases what).
#include "lock_waiter.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_set>

#include "args.h"
#include "export.h"

namespace rxipc {

// ---- dependents ---------------------------------------------------------------------------

void Dependents::Detach(Handle* dependent) {
    for (auto it = list_.begin(); it != list_.end(); ++it) {
        if (*it == dependent) {
            list_.erase(it);
            return;
        }
    }
}

void Dependents::CloseAll() {
    // Each dependent detaches itself while closing, so iterate over a copy.
    std::vector<Handle*> dependents = list_;
    for (Handle* dependent : dependents) dependent->Close();
    list_.clear();
}

// ---- the interrupting signal ----------------------------------------------------------------

namespace {

void OnInterruptSignal(int /*signal*/) {}

}  // namespace

int SignalInterrupter::Signal() { return SIGRTMAX - 3; }

int SignalInterrupter::Install() {
    static std::mutex mutex;
    static bool installed = false;
    std::lock_guard<std::mutex> lock(mutex);
    if (installed) return 0;
    struct sigaction current = {};
    if (sigaction(Signal(), nullptr, &current) == -1) return errno;
    bool is_default = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
    if (!is_default && current.sa_handler != OnInterruptSignal) return EBUSY;
    struct sigaction action = {};
    action.sa_handler = OnInterruptSignal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: signal(7) restarts flock(2) and F_OFD_SETLKW after a handler that has it,
    // and the point is that the call returns EINTR. (sem_wait and semop never restart.)
    action.sa_flags = 0;
    if (sigaction(Signal(), &action, nullptr) == -1) return errno;
    installed = true;
    return 0;
}

bool SignalInterrupter::Enter(const std::atomic<bool>& requested) {
    if (!unblocked_) {
        // A thread started from a worker inherits Node's worker mask, which blocks every
        // signal; a blocked signal would stay pending and never interrupt anything.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, Signal());
        pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        unblocked_ = true;
    }
    thread_.store(pthread_self());
    in_call_.store(true);
    if (requested.load()) {
        in_call_.store(false);
        return false;
    }
    return true;
}

void SignalInterrupter::Interrupt() {
    // The thread cannot exit while in_call_ is set, and is joined only by Close, which calls
    // this first on the same (main) thread: pthread_kill never targets a joined thread.
    while (in_call_.load()) {
        pthread_kill(thread_.load(), Signal());
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
}

// ---- the lock waiter ------------------------------------------------------------------------

namespace {

// Every live lock waiter, so that a waiter handle can be told apart from other waiters (the
// build has no RTTI). Process-wide: workers create waiters too.
std::mutex& LiveMutex() {
    static auto* mutex = new std::mutex();
    return *mutex;
}
std::unordered_set<LockWaiter*>& Live() {
    static auto* live = new std::unordered_set<LockWaiter*>();
    return *live;
}

}  // namespace

LockWaiter::LockWaiter(Napi::Env env) : Waiter(env) {
    std::lock_guard<std::mutex> lock(LiveMutex());
    Live().insert(this);
}

LockWaiter::~LockWaiter() {
    std::lock_guard<std::mutex> lock(LiveMutex());
    Live().erase(this);
}

LockWaiter* LockWaiter::From(Waiter& waiter) {
    auto* candidate = static_cast<LockWaiter*>(&waiter);
    std::lock_guard<std::mutex> lock(LiveMutex());
    return Live().count(candidate) != 0 ? candidate : nullptr;
}

bool LockWaiter::StartCommand(State from, State to) {
    if (closed() || state_.load() != from) return false;
    BeforeCommand(to);
    // The thread is between commands (idle or holding), so nothing reads these concurrently.
    interrupt_.store(false);
    result_.store(Result::kNone);
    state_.store(to);
    Arm();
    return true;
}

bool LockWaiter::StartAcquire() { return StartCommand(State::kIdle, State::kAcquiring); }

bool LockWaiter::Release(bool mark_consistent, bool* started, int* err, const char** syscall) {
    *started = false;
    *err = 0;
    if (closed() || state_.load() != State::kHeld) return false;
    if (ReleasesOnThread()) {
        consistent_on_release_ = mark_consistent;
        *started = StartCommand(State::kHeld, State::kReleasing);
        return *started;
    }
    // The thread is idle while we hold, so releasing from here races with nothing.
    *err = ReleaseAcquired(mark_consistent, syscall);
    state_.store(State::kIdle);
    return true;
}

void LockWaiter::Cancel() {
    State state = state_.load();
    if (state != State::kAcquiring && state != State::kCondWaiting) return;
    interrupt_.store(true);
    InterruptCall();
}

bool LockWaiter::Disown() {
    if (closed() || state_.load() != State::kHeld) return false;
    state_.store(State::kIdle);
    return true;
}

Waiter::Outcome LockWaiter::Wait() {
    const char* syscall = "unknown";
    switch (state_.load()) {
        case State::kAcquiring: {
            int err = Acquire(&syscall);  // before reading syscall: it sets it
            return FinishAcquire(err, syscall);
        }

        case State::kReleasing: {
            int err = ReleaseAcquired(consistent_on_release_, &syscall);
            state_.store(State::kIdle);
            if (err != 0) return {Outcome::kError, err, syscall};
            result_.store(Result::kReleased);
            return {Outcome::kReady};
        }

        case State::kCondWaiting: {
            int err = CondWait(&syscall);
            // pthread_cond_wait(3p): "Upon successful return, the mutex shall have been locked
            // and shall be owned by the calling thread", and so it is after a timeout or an
            // owner-died return; the callers of CondWait keep it so on every path.
            state_.store(State::kHeld);
            if (err == 0) {
                result_.store(Result::kSignaled);
                return {Outcome::kReady};
            }
            if (err == EOWNERDEAD) {
                result_.store(Result::kOwnerDead);
                return {Outcome::kReady};
            }
            if (err == ECANCELED) {
                if (stopping_.load()) return {Outcome::kWoken};
                result_.store(Result::kCancelled);
                return {Outcome::kReady};
            }
            return {Outcome::kError, err, syscall};
        }

        case State::kIdle:
        case State::kHeld:
            break;
    }
    // Armed with nothing to do: sleep until Close rather than spin.
    std::unique_lock<std::mutex> lock(idle_mutex_);
    idle_changed_.wait(lock, [this] { return stopping_.load(); });
    return {Outcome::kWoken};
}

Waiter::Outcome LockWaiter::FinishAcquire(int err, const char* syscall) {
    if (err == 0 || err == EOWNERDEAD) {
        bool owner_dead = err == EOWNERDEAD;
        if (interrupt_.load()) {
            const char* ignored = nullptr;
            if (!ReleasesOnThread()) {
                // Acquired just as the caller left: give it back, report nothing acquired.
                ReleaseAcquired(false, &ignored);
                state_.store(State::kIdle);
                if (stopping_.load()) return {Outcome::kWoken};
                result_.store(Result::kCancelled);
                return {Outcome::kReady};
            }
            if (stopping_.load()) {
                // Closing. A clean lock is unlocked here, by its owner. One whose previous
                // owner died stays locked: this thread exits holding it, and the kernel hands
                // the owner-died state on to the next locker, who can still repair.
                if (!owner_dead) {
                    ReleaseAcquired(false, &ignored);
                    state_.store(State::kIdle);
                } else {
                    state_.store(State::kHeld);
                }
                return {Outcome::kWoken};
            }
            // Cancelled, not closing: report the acquisition; only this thread may unlock,
            // and the caller (whose subscriber left) asks it to.
        }
        state_.store(State::kHeld);
        result_.store(owner_dead ? Result::kOwnerDead : Result::kAcquired);
        return {Outcome::kReady};
    }
    state_.store(State::kIdle);
    if (err == ECANCELED) {
        if (stopping_.load()) return {Outcome::kWoken};
        result_.store(Result::kCancelled);
        return {Outcome::kReady};
    }
    return {Outcome::kError, err, syscall};
}

void LockWaiter::Wake() {
    stopping_.store(true);
    interrupt_.store(true);
    {
        std::lock_guard<std::mutex> lock(idle_mutex_);
        idle_changed_.notify_all();
    }
    InterruptCall();
}

void LockWaiter::ReleaseWaitResources() {
    // The thread has been joined. An acquisition nobody released (the waiter was closed while
    // holding, or with its 'acquired' report still queued) is released now. A robust mutex
    // cannot be: its owner thread has exited, and the kernel marked it owner-died.
    if (state_.load() == State::kHeld && !ReleasesOnThread()) {
        const char* ignored = nullptr;
        ReleaseAcquired(false, &ignored);
    }
    state_.store(State::kIdle);
    DetachTarget();
}

// ---- argument helpers -----------------------------------------------------------------------

Napi::TypeError InvalidArgValue(Napi::Env env, const std::string& message) {
    Napi::TypeError error = Napi::TypeError::New(env, message);
    SetCode(error, "ERR_INVALID_ARG_VALUE");
    return error;
}

int ChoiceArg(const Napi::CallbackInfo& info, size_t index, const char* name,
              std::initializer_list<const char*> choices) {
    Napi::Value value = info[index];
    std::string list;
    for (const char* choice : choices)
        list += std::string(list.empty() ? "" : ", ") + "'" + choice + "'";
    if (!value.IsString()) {
        throw ArgTypeError(info.Env(), name, ("one of " + list).c_str(), value);
    }
    // Short strings only: the choices are short, and a huge string is refused unread.
    size_t length = 0;
    NAPI_THROW_IF_FAILED(info.Env(),
                         napi_get_value_string_utf8(info.Env(), value, nullptr, 0, &length), -1);
    if (length <= 32) {
        std::string text = value.As<Napi::String>().Utf8Value();
        int i = 0;
        for (const char* choice : choices) {
            if (text == choice) return i;
            i++;
        }
    }
    throw InvalidArgValue(info.Env(),
                          std::string("The \"") + name + "\" argument must be one of " + list);
}

void InstallInterruptSignal(Napi::Env env) {
    int err = SignalInterrupter::Install();
    if (err == EBUSY) {
        std::string hint = "signal " + std::to_string(SignalInterrupter::Signal()) +
                           " (SIGRTMAX-3), which interrupts semaphore and lock waiters, already "
                           "has another handler";
        throw ErrnoError(env, err, "sigaction", nullptr, hint.c_str());
    }
    if (err != 0) throw ErrnoError(env, err, "sigaction");
}

// ---- JS exports -----------------------------------------------------------------------------

namespace {

LockWaiter& UnwrapLockWaiter(const Napi::CallbackInfo& info, size_t index) {
    Waiter& waiter = UnwrapHandle<Waiter>(info, index, "waiter");
    LockWaiter* lock_waiter = LockWaiter::From(waiter);
    if (lock_waiter == nullptr) {
        throw BadHandleError(info.Env(), "waiter", "an open lock waiter handle",
                             "a waiter of another kind");
    }
    return *lock_waiter;
}

const char* StateName(LockWaiter::State state) {
    switch (state) {
        case LockWaiter::State::kIdle:
            return "idle";
        case LockWaiter::State::kAcquiring:
            return "acquiring";
        case LockWaiter::State::kHeld:
            return "held";
        case LockWaiter::State::kReleasing:
            return "releasing";
        case LockWaiter::State::kCondWaiting:
            return "cond-waiting";
    }
    return "unknown";
}

const char* ResultName(LockWaiter::Result result) {
    switch (result) {
        case LockWaiter::Result::kNone:
            return "none";
        case LockWaiter::Result::kAcquired:
            return "acquired";
        case LockWaiter::Result::kOwnerDead:
            return "owner-dead";
        case LockWaiter::Result::kCancelled:
            return "cancelled";
        case LockWaiter::Result::kReleased:
            return "released";
        case LockWaiter::Result::kSignaled:
            return "signaled";
    }
    return "unknown";
}

Napi::Error WrongState(Napi::Env env, const char* syscall, LockWaiter& waiter,
                       const char* expected) {
    std::string hint = std::string("the waiter is ") + StateName(waiter.state()) + ", not " +
                       expected + "; wait for its report";
    return ErrnoError(env, EBUSY, syscall, nullptr, hint.c_str());
}

/* lockWaiterAcquire(waiter: WaiterHandle): void
   Starts another acquisition on an idle lock waiter; its thread blocks until acquired and
   reports (lockWaiterResult 'acquired' or 'owner-dead'), or until lockWaiterCancel ('cancelled').
   EBUSY (syscall 'lockWaiterAcquire') unless idle. */
Napi::Value LockWaiterAcquire(const Napi::CallbackInfo& info) {
    LockWaiter& waiter = UnwrapLockWaiter(info, 0);
    if (!waiter.StartAcquire()) throw WrongState(info.Env(), "lockWaiterAcquire", waiter, "idle");
    return info.Env().Undefined();
}

/* lockWaiterRelease(waiter: WaiterHandle, options?: { markConsistent?: boolean }): boolean
   Releases what the waiter holds. true: released now (semaphores, file locks). false: the
   release runs on the waiter's thread, which reports 'released' (robust mutexes, which only
   their owner thread may unlock; markConsistent calls pthread_mutex_consistent first).
   EBUSY unless held; the release's own errno otherwise (syscall of the failing call). */
Napi::Value LockWaiterRelease(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool consistent = BoolOption(options, "markConsistent", "options.markConsistent", false);
    LockWaiter& waiter = UnwrapLockWaiter(info, 0);

    bool started = false;
    int err = 0;
    const char* syscall = "unknown";
    if (!waiter.Release(consistent, &started, &err, &syscall)) {
        throw WrongState(env, "lockWaiterRelease", waiter, "held");
    }
    if (err != 0) throw ErrnoError(env, err, syscall);
    return Napi::Boolean::New(env, !started);
}

/* lockWaiterCancel(waiter: WaiterHandle): void
   Asks a waiter that is acquiring (or waiting on a condition) to give up. Returns at once;
   the thread reports 'cancelled', or what it acquired just before. A no-op in other states
   and on a closed waiter. */
Napi::Value LockWaiterCancel(const Napi::CallbackInfo& info) {
    Waiter& waiter = UnwrapHandle<Waiter>(info, 0, "waiter", /*allow_closed=*/true);
    if (waiter.closed()) return info.Env().Undefined();
    LockWaiter* lock_waiter = LockWaiter::From(waiter);
    if (lock_waiter == nullptr) {
        throw BadHandleError(info.Env(), "waiter", "an open lock waiter handle",
                             "a waiter of another kind");
    }
    lock_waiter->Cancel();
    return info.Env().Undefined();
}

/* lockWaiterDisown(waiter: WaiterHandle): void
   The held acquisition becomes the caller's (a semaphore count consumed for good): the waiter
   goes idle without releasing, and closing it releases nothing. EBUSY unless held. */
Napi::Value LockWaiterDisown(const Napi::CallbackInfo& info) {
    LockWaiter& waiter = UnwrapLockWaiter(info, 0);
    if (!waiter.Disown()) throw WrongState(info.Env(), "lockWaiterDisown", waiter, "held");
    return info.Env().Undefined();
}

/* lockWaiterState(waiter: WaiterHandle): { state: string; result: string }
   state: 'idle' | 'acquiring' | 'held' | 'releasing' | 'cond-waiting'; result, what the last
   finished command came to: 'none' | 'acquired' | 'owner-dead' | 'cancelled' | 'released' |
   'signaled'. Read it in the waiter's callback. */
Napi::Value LockWaiterState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    LockWaiter& waiter = UnwrapLockWaiter(info, 0);
    Napi::Object result = Napi::Object::New(env);
    result.Set("state", Napi::String::New(env, StateName(waiter.state())));
    result.Set("result", Napi::String::New(env, ResultName(waiter.result())));
    return result;
}

}  // namespace

void ExportLockWaiter(Napi::Env env, Napi::Object exports) {
    SetFunction<LockWaiterAcquire>(env, exports, "lockWaiterAcquire");
    SetFunction<LockWaiterRelease>(env, exports, "lockWaiterRelease");
    SetFunction<LockWaiterCancel>(env, exports, "lockWaiterCancel");
    SetFunction<LockWaiterDisown>(env, exports, "lockWaiterDisown");
    SetFunction<LockWaiterState>(env, exports, "lockWaiterState");
}

}  // namespace rxipc
