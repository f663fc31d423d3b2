// Futexes in shared memory (futex(2)): a waiter thread that sleeps until a 32-bit word of a
// mapping changes, and the wake-up call. The shared-memory ring and shared values build their
// sleeping on these; everything else about them (the words' meaning, when to sleep, when to
// wake) lives in TypeScript, with Atomics on the mapping's ArrayBuffer.
//
// futex(2): FUTEX_WAIT "tests that the value at the futex word pointed to by the address
// uaddr still contains the expected value val, and if so, then sleeps waiting for a
// FUTEX_WAKE operation on the futex word". The test and the sleep are atomic, which is what
// makes "set a sleeping flag, re-check, sleep" free of lost wake-ups.
//
// The wait runs in a thread the waiter owns (waiter.h), never in the libuv pool. To interrupt
// it on close without touching the shared word (other processes own its meaning), the thread
// waits on two words at once with futex_waitv(2) (Linux 5.16): the shared one, and a private
// stop word that Wake() sets. On older kernels (ENOSYS) it falls back to FUTEX_WAIT in slices
// of kFallbackSliceMs, so close still returns within that time.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <mutex>
#include <unordered_set>

#include "args.h"
#include "export.h"
#include "shm.h"
#include "waiter.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

namespace rxipc {
namespace {

constexpr int kFallbackSliceMs = 20;

// The futex_waitv(2) element (linux/futex.h has it since 5.16; declared here so older headers
// build too).
struct WaitV {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};
constexpr uint32_t kFutexSize32 = 2;  // FUTEX_32 in futex_waitv's flags

long FutexWait(uint32_t* word, uint32_t expected, const struct timespec* relative) {
    // No FUTEX_PRIVATE_FLAG: the word is in memory shared with other processes.
    return syscall(SYS_futex, word, FUTEX_WAIT, expected, relative, nullptr, 0);
}

timespec Add(timespec t, int64_t ms) {
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

int64_t MsUntil(const timespec& deadline) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
}

class FutexWaiter;

// The futex waiters alive in this process, so that futexWaiterArm can tell them from other
// waiters without RTTI (node-gyp builds with -fno-rtti). Process-wide, so workers share it
// under the mutex; leaked on purpose, like fd.cc's table.
std::mutex& FutexWaitersMutex() {
    static auto* mutex = new std::mutex();
    return *mutex;
}

std::unordered_set<const Waiter*>& FutexWaiters() {
    static auto* set = new std::unordered_set<const Waiter*>();
    return *set;
}

bool IsFutexWaiter(const Waiter* waiter) {
    std::lock_guard<std::mutex> lock(FutexWaitersMutex());
    return FutexWaiters().count(waiter) != 0;
}

class FutexWaiter final : public Waiter {
  public:
    FutexWaiter(Napi::Env env, ShmMapping& mapping, Napi::Value mapping_object, uint32_t* word,
                uint32_t expected, int64_t timeout_ms)
        : Waiter(env),
          mapping_(&mapping),
          mapping_ref_(Napi::Reference<Napi::Value>::New(mapping_object, 1)),
          word_(word),
          expected_(expected),
          timeout_ms_(timeout_ms) {
        mapping.Attach(this);
        std::lock_guard<std::mutex> lock(FutexWaitersMutex());
        FutexWaiters().insert(this);
    }
    ~FutexWaiter() override {
        std::lock_guard<std::mutex> lock(FutexWaitersMutex());
        FutexWaiters().erase(this);
    }

    // Main thread, before Arm(): the value the next wait expects.
    void SetExpected(uint32_t expected) { expected_.store(expected); }

  protected:
    Outcome Wait() override {
        uint32_t expected = expected_.load();
        timespec deadline{};
        if (timeout_ms_ >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline = Add(deadline, timeout_ms_);
        }
        for (;;) {
            if (stop_.load() != 0) return {Outcome::kWoken};
            if (__atomic_load_n(word_, __ATOMIC_SEQ_CST) != expected) return {Outcome::kReady};
            if (timeout_ms_ >= 0 && MsUntil(deadline) <= 0) return {Outcome::kReady};

            long result;
            if (use_waitv_) {
                WaitV waiters[2] = {
                    {expected, reinterpret_cast<uintptr_t>(word_), kFutexSize32, 0},
                    {0, reinterpret_cast<uintptr_t>(&stop_), kFutexSize32 | FUTEX_PRIVATE_FLAG, 0},
                };
                // futex_waitv(2) takes an absolute CLOCK_MONOTONIC deadline.
                result = syscall(SYS_futex_waitv, waiters, 2, 0,
                                 timeout_ms_ >= 0 ? &deadline : nullptr, CLOCK_MONOTONIC);
                if (result == -1 && errno == ENOSYS) {
                    use_waitv_ = false;
                    continue;
                }
            } else {
                int64_t slice = kFallbackSliceMs;
                if (timeout_ms_ >= 0) slice = std::min<int64_t>(slice, MsUntil(deadline));
                if (slice < 1) slice = 1;
                timespec relative = Add(timespec{}, slice);
                result = FutexWait(word_, expected, &relative);
            }
            if (result >= 0) continue;  // woken: the loop re-checks the words
            // EAGAIN: a word no longer held its expected value; EINTR: a signal;
            // ETIMEDOUT: the loop reports when the deadline has passed.
            if (errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT) continue;
            return {Outcome::kError, errno, use_waitv_ ? "futex_waitv" : "futex"};
        }
    }

    void Wake() override {
        stop_.store(1);
        syscall(SYS_futex, &stop_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }

    void ReleaseWaitResources() override {
        mapping_->Detach(this);
        mapping_ = nullptr;
        mapping_ref_.Reset();
    }

  private:
    ShmMapping* mapping_;
    Napi::Reference<Napi::Value> mapping_ref_;
    uint32_t* const word_;  // inside the mapping, which cannot unmap before joining us
    std::atomic<uint32_t> expected_;
    const int64_t timeout_ms_;  // -1: none
    std::atomic<uint32_t> stop_{0};
    bool use_waitv_ = true;  // the waiter thread's own
};

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");

// A futex word in a private (copy-on-write) mapping is this process's own: no other process
// can wake a sleeper there, nor see a wake-up.
void CheckShared(Napi::Env env, const ShmMapping& mapping) {
    if (!mapping.writable()) {
        throw BadHandleError(env, "mapping", "a shared (writable) mapping",
                             "a private copy-on-write mapping");
    }
}

// A 32-bit value given as a signed or unsigned number (Int32Array and Uint32Array views of the
// same word disagree on the sign).
uint32_t WordArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    return static_cast<uint32_t>(IntegerArg(info, index, name, INT32_MIN, UINT32_MAX));
}

/* futexWaiter(mapping: ShmMappingHandle, offset: number, expected: number,
   callback: (error: SystemError | null) => void, options?: { timeoutMs?: number }):
   WaiterHandle
   Starts a waiter thread (never the libuv pool) that sleeps while the 32-bit word at `offset`
   (a multiple of 4 inside the mapping) equals `expected` (-2^31 .. 2^32-1), then calls
   callback(null) on the event loop and sleeps until re-armed (futexWaiterArm, or waiterArm to
   wait for the same value again). With timeoutMs (1 .. 2^31-1) it also calls callback(null)
   when that much time has passed, so the caller can look at the world (is the peer alive?)
   and re-arm. Created armed. Closing the mapping closes the waiter first; waiterClose wakes
   and joins the thread within milliseconds. A failed wait calls callback(error) (syscall
   'futex_waitv'). Errors: EAGAIN (syscall 'pthread_create'). */
Napi::Value FutexWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t offset = IntegerArg(info, 1, "offset", 0, kMaxSafeInteger);
    uint32_t expected = WordArg(info, 2, "expected");
    Napi::Function callback = FunctionArg(info, 3, "callback");
    std::optional<Napi::Object> options = OptionsArg(info, 4, "options");
    int64_t timeout_ms = IntegerOption(options, "timeoutMs", "options.timeoutMs", 1, INT32_MAX, -1);
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    CheckShared(env, mapping);
    auto* word = static_cast<uint32_t*>(mapping.At(env, offset, 4, 4, "offset"));

    auto* waiter = new FutexWaiter(env, mapping, info[0], word, expected, timeout_ms);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

/* futexWaiterArm(waiter: WaiterHandle, expected: number): void
   Re-arms a futex waiter to sleep while its word equals `expected`. No-op when armed.
   TypeError ERR_RXIPC_BAD_HANDLE for a closed waiter or one that futexWaiter did not make. */
Napi::Value FutexWaiterArm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t expected = WordArg(info, 1, "expected");
    Waiter& waiter = UnwrapHandle<Waiter>(info, 0, "waiter");
    if (!IsFutexWaiter(&waiter)) {
        throw BadHandleError(env, "waiter", "an open futex waiter handle",
                             "a waiter that futexWaiter did not make");
    }
    static_cast<FutexWaiter&>(waiter).SetExpected(expected);
    waiter.Arm();
    return env.Undefined();
}

/* futexWake(mapping: ShmMappingHandle, offset: number, count: number): number
   FUTEX_WAKE on the 32-bit word at `offset` (a multiple of 4 inside the mapping): wakes up to
   `count` (1 .. 2^31-1) threads of any process sleeping on it, and returns how many it woke.
   Errors (syscall 'futex'): EFAULT, EINVAL. */
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t offset = IntegerArg(info, 1, "offset", 0, kMaxSafeInteger);
    auto count = static_cast<int>(IntegerArg(info, 2, "count", 1, INT32_MAX));
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    CheckShared(env, mapping);
    void* word = mapping.At(env, offset, 4, 4, "offset");
    long woken = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
    if (woken == -1) throw ErrnoError(env, errno, "futex");
    return Napi::Number::New(env, static_cast<double>(woken));
}

}  // namespace

void ExportFutex(Napi::Env env, Napi::Object exports) {
    SetFunction<FutexWaiterJs>(env, exports, "futexWaiter");
    SetFunction<FutexWaiterArm>(env, exports, "futexWaiterArm");
    SetFunction<FutexWake>(env, exports, "futexWake");
}

}  // namespace rxipc
