// Lock waiters: the owned-waiter-thread facility (waiter.h) for things that are acquired and
// released (POSIX and System V semaphores, flock and OFD locks, robust mutexes). One waiter is
// one acquisition at a time, driven by commands from the main thread:
//
//   idle --Acquire--> acquiring --(thread: acquired)--> held --Release--> idle
//                         |                              |
//                         +--Cancel--> idle (report)     +--(mutex) Release--> releasing --> idle
//
// Each finished command reports once through the waiter's thread-safe function; JS reads what
// happened with lockWaiterResult. Cancel never blocks the main thread: it asks the thread to
// give up and the thread reports 'cancelled'.
//
// Nothing is leaked when acquiring and cancelling race:
// - the thread acquires after Cancel was asked: it releases at once and reports 'cancelled'
//   (except a robust mutex, which reports the acquisition: only its owner thread may unlock);
// - the thread acquired and reported just before Cancel: the report says 'acquired', and the
//   caller, whose subscriber has gone, releases;
// - the waiter is closed while it holds, or with an 'acquired' report still queued (which is
//   then dropped): ReleaseWaitResources releases after the thread has been joined.
//
// How a blocking call is interrupted (for Cancel and for Close) is the subclass's choice:
// - a signal (SignalInterrupter below) for calls that return EINTR when a handler without
//   SA_RESTART runs: sem_wait, semop, flock, fcntl(F_OFD_SETLKW) (signal(7));
// - polling a flag between short timed waits (Interrupted()) for pthread_mutex_lock, which
//   no signal interrupts (pthread_mutex_lock(3p): "the thread shall resume waiting for the
//   mutex as if it was not interrupted").
#pragma once

#include <napi.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "waiter.h"

namespace rxipc {

// The handles that depend on an object (waiters on a semaphore, semaphores in a region). The
// object closes them before it lets go of the kernel object or the memory they use.
class Dependents {
  public:
    void Attach(Handle* dependent) { list_.push_back(dependent); }
    void Detach(Handle* dependent);
    void CloseAll();

  private:
    std::vector<Handle*> list_;
};

// Interrupts one thread's blocking system call with a signal (SIGRTMAX-3; SIGRTMAX-2 belongs
// to System V queue waiters), whose handler does nothing and is installed without SA_RESTART,
// so the call returns EINTR. A signal can land between the thread's last check of the flag and
// its entry into the call and be lost, so Interrupt repeats it until the thread is out of the
// call; the flags are sequentially consistent, so either the thread sees the request or
// Interrupt sees in_call_.
class SignalInterrupter {
  public:
    // Installs the handler, once per process. Returns 0, or EBUSY when another handler owns
    // the signal, or sigaction's errno.
    static int Install();
    static int Signal();

    // Waiter thread, around the blocking call. Enter returns false (do not block) when an
    // interrupt is pending.
    bool Enter(const std::atomic<bool>& requested);
    void Leave() { in_call_.store(false); }

    // Any thread: after setting the flag the thread checks, signals until it has left the call.
    void Interrupt();

  private:
    std::atomic<bool> in_call_{false};
    std::atomic<pthread_t> thread_{};
    bool unblocked_ = false;  // waiter thread only
};

class LockWaiter : public Waiter {
  public:
    enum class Result { kNone, kAcquired, kOwnerDead, kCancelled, kReleased, kSignaled };
    enum class State { kIdle, kAcquiring, kHeld, kReleasing, kCondWaiting };

    // The lock waiter behind a waiter handle, or nullptr for another kind of waiter. Main
    // thread.
    static LockWaiter* From(Waiter& waiter);

    // Main thread. Each returns false when the state does not allow the command.
    bool StartAcquire();
    // true: released here and now; false with *started: the release runs on the thread and
    // reports 'released' (robust mutexes).
    bool Release(bool mark_consistent, bool* started, int* err, const char** syscall);
    // Acquiring: ask the thread to give up (it reports). Otherwise a no-op.
    void Cancel();
    // Held: the acquisition now belongs to the caller (a consumed semaphore count); nothing
    // releases it at close.
    bool Disown();

    // True for robust mutexes: only the owner thread may unlock (and wait on a condition).
    virtual bool ReleasesOnThread() const { return false; }

    Result result() const { return result_.load(); }
    State state() const { return state_.load(); }

  protected:
    explicit LockWaiter(Napi::Env env);
    ~LockWaiter() override;

    // Waiter thread: one blocking acquisition. Returns 0 (acquired), EOWNERDEAD (acquired,
    // robust mutex whose owner died), ECANCELED (interrupted by Cancel or Close, nothing
    // acquired), or an errno with *syscall set.
    virtual int Acquire(const char** syscall) = 0;
    // Releases one acquisition: main thread, or the waiter thread for ReleasesOnThread kinds.
    // Returns 0 or an errno with *syscall set.
    virtual int ReleaseAcquired(bool mark_consistent, const char** syscall) = 0;
    // Any thread: makes a blocking Acquire return ECANCELED promptly (after `interrupt_`
    // was set). The default does nothing: the subclass polls Interrupted().
    virtual void InterruptCall() {}
    // Main thread, before each command (the thread is idle or holds): a subclass lets go of
    // what the previous command needed.
    virtual void BeforeCommand(State /*next*/) {}
    // Waiter thread, kCondWaiting only (robust mutexes). Returns like Acquire, 0 = signaled.
    virtual int CondWait(const char** syscall) {
        *syscall = "pthread_cond_wait";
        return EINVAL;
    }
    // Main thread, after the join: drop references to the target.
    virtual void DetachTarget() = 0;

    bool Interrupted() const { return interrupt_.load(); }
    std::atomic<bool> interrupt_{false};  // Cancel (cleared per command) or Close (sticky)

    // For subclasses that add commands (the robust mutex's condition wait).
    bool StartCommand(State from, State to);

    Outcome Wait() final;
    void Wake() final;
    void ReleaseWaitResources() final;

  private:
    Outcome FinishAcquire(int err, const char* syscall);

    std::atomic<State> state_{State::kAcquiring};  // written by main when idle, else by thread
    std::atomic<Result> result_{Result::kNone};
    std::atomic<bool> stopping_{false};
    bool consistent_on_release_ = false;  // main writes before arming a release

    // Where the thread sleeps if it is ever armed with nothing to do (never, by construction;
    // but a busy loop would be the alternative).
    std::mutex idle_mutex_;
    std::condition_variable idle_changed_;
};

// A lock waiter whose blocking call returns EINTR on SignalInterrupter's signal (sem_wait, semop,
// flock, fcntl(F_OFD_SETLKW)). It owns the interrupter and the acquisition loop around the call.
class SignalLockWaiter : public LockWaiter {
  protected:
    using LockWaiter::LockWaiter;

    // Waiter thread: calls `call` (a system call returning 0, or -1 with errno) until it
    // succeeds (0), Cancel or Close interrupts it (ECANCELED), or it fails (its errno, with
    // *syscall = `name`). EINTR from any other signal is retried.
    template <typename Call>
    int AcquireInterruptibly(const char* name, const char** syscall, Call call) {
        for (;;) {
            if (!interrupter_.Enter(interrupt_)) return ECANCELED;
            int result = call();
            int err = result == 0 ? 0 : errno;
            interrupter_.Leave();
            if (result == 0) return 0;
            if (err == EINTR) {
                if (Interrupted()) return ECANCELED;
                continue;  // some other signal
            }
            *syscall = name;
            return err;
        }
    }

    void InterruptCall() final { interrupter_.Interrupt(); }

  private:
    SignalInterrupter interrupter_;
};

// ---- argument helpers shared by the lock files ----------------------------------------------

// A string argument that must be one of `choices`; returns its index. TypeError
// ERR_INVALID_ARG_VALUE otherwise.
int ChoiceArg(const Napi::CallbackInfo& info, size_t index, const char* name,
              std::initializer_list<const char*> choices);

// TypeError ERR_INVALID_ARG_VALUE with `message`.
Napi::TypeError InvalidArgValue(Napi::Env env, const std::string& message);

// Installs SignalInterrupter's handler, or throws EBUSY (syscall 'sigaction') with a hint.
void InstallInterruptSignal(Napi::Env env);

}  // namespace rxipc
