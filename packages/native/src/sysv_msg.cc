// System V message queues (sysvipc(7), msgget(2), msgsnd(2), msgrcv(2), msgctl(2)).
//
// A queue is an identifier, not a descriptor: nothing can poll it. So every call made on the
// event loop uses IPC_NOWAIT, and waiting happens in threads owned by waiter handles
// (waiter.h), never in the libuv pool:
// - msgRecvWaiter blocks in msgrcv(2) with a zero-byte buffer and without MSG_NOERROR, which
//   msgrcv(2) turns into a peek: "If MSG_NOERROR is not specified, then the message isn't
//   removed from the queue and the system call fails ... with errno set to E2BIG". E2BIG
//   therefore means "a message of the selected type is there", and the event loop then
//   receives it with IPC_NOWAIT. Only a zero-length message fits a zero-byte buffer and is
//   really taken; the waiter hands it to its queue handle, whose next msgrcv returns it first
//   (and whose close puts it back if nobody took it).
// - msgSendWaiter blocks in msgsnd(2) with one message, for a queue that was full.
// Both are woken for close by a signal sent to their thread: signal(7) lists msgrcv and
// msgsnd among the calls that "are never restarted after being interrupted by a signal
// handler, regardless of the use of SA_RESTART; they always fail with the error EINTR".
//
// A queue handle never removes the queue on close; msgRmid does, and only through a handle.
// That keeps the export fuzzer (which holds no queue handles) from removing anyone's queue.
#include <pthread.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "args.h"
#include "batch_args.h"
#include "export.h"
#include "handle.h"
#include "waiter.h"

namespace rxipc {
namespace {

// msgsnd(2): "The mtype field must have a strictly positive integer value". Types go through
// JS numbers, so they stop at 2^53 - 1.
constexpr int64_t kMaxType = kMaxSafeInteger;
// The largest message text we accept for a send or a receive buffer (msgmnb can be raised to
// INT_MAX; 64 MiB is far beyond any sane msgmax and keeps a hostile length from allocating).
constexpr size_t kMaxText = size_t{64} << 20;

// ---- the queue handle -------------------------------------------------------------------

class SysvMsg : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kSysvMsg;

    SysvMsg(Napi::Env env, int id, key_t key) : Handle(env, kKind), id_(id), key_(key) {}

    int id() const { return id_; }
    key_t key() const { return key_; }

    void Attach(Handle* dependent) { dependents_.push_back(dependent); }
    void Detach(Handle* dependent) {
        dependents_.erase(std::remove(dependents_.begin(), dependents_.end(), dependent),
                          dependents_.end());
    }

    // A zero-length message a receive waiter took while peeking (any thread).
    void Hold(long type) {
        std::lock_guard<std::mutex> lock(held_mutex_);
        held_.push_back(type);
        held_count_.store(held_.size());
    }
    bool TakeHeld(long* type) {
        // Every receive asks, and almost never finds one: skip the lock then. A Hold() that
        // races with this check was reported after it, and the next receive sees it.
        if (held_count_.load() == 0) return false;
        std::lock_guard<std::mutex> lock(held_mutex_);
        if (held_.empty()) return false;
        *type = held_.front();
        held_.pop_front();
        held_count_.store(held_.size());
        return true;
    }

    // A buffer laid out as struct msgbuf { long mtype; char mtext[]; } with room for `text`
    // bytes of text. Main thread only.
    char* Scratch(size_t text) {
        if (scratch_.size() < sizeof(long) + text) scratch_.resize(sizeof(long) + text);
        return scratch_.data();
    }

  protected:
    int DoClose() override {
        std::vector<Handle*> dependents = dependents_;
        for (Handle* dependent : dependents) dependent->Close();  // wakes and joins
        dependents_.clear();
        // Put back what a waiter took and nobody received, so that closing loses nothing
        // (best effort: at the back of the queue, and only if there is room).
        long type;
        while (TakeHeld(&type)) {
            struct {
                long mtype;
            } message = {type};
            msgsnd(id_, &message, 0, IPC_NOWAIT);
        }
        std::vector<char>().swap(scratch_);
        return 0;
    }

  private:
    const int id_;
    const key_t key_;
    std::vector<Handle*> dependents_;
    std::mutex held_mutex_;
    std::deque<long> held_;
    std::atomic<size_t> held_count_{0};  // held_.size(), readable without the lock
    std::vector<char> scratch_;
};

// ---- waking a thread out of msgrcv/msgsnd -----------------------------------------------

void OnWakeSignal(int /*signal*/) {}

// The signal that interrupts waiter threads: a real-time signal Node and libuv leave alone.
// Its handler does nothing; it exists so that the blocking call returns EINTR instead of the
// default action (termination) running.
int WakeSignal() { return SIGRTMAX - 2; }

// Installs the handler once. Fails (returns errno) if someone else handles the signal.
int InstallWakeHandler() {
    static std::mutex mutex;
    static bool installed = false;
    std::lock_guard<std::mutex> lock(mutex);
    if (installed) return 0;
    struct sigaction current = {};
    if (sigaction(WakeSignal(), nullptr, &current) == -1) return errno;
    bool is_default = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
    if (!is_default && current.sa_handler != OnWakeSignal) return EBUSY;
    struct sigaction action = {};
    action.sa_handler = OnWakeSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the point is that the call returns EINTR
    if (sigaction(WakeSignal(), &action, nullptr) == -1) return errno;
    installed = true;
    return 0;
}

// The wake-up protocol between a waiter thread (Enter/Leave around its blocking call) and
// Close (Wake). A signal can land between the thread's check of woken_ and its entry into the
// system call and be lost, so Wake repeats it until the thread has left the call; all three
// flags are sequentially consistent, so either the thread sees woken_ or Wake sees in_call_.
class Interrupter {
  public:
    // Waiter thread: before the blocking call. false: woken already, do not block.
    bool Enter() {
        if (!unblocked_) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, WakeSignal());
            pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
            unblocked_ = true;
        }
        thread_ = pthread_self();
        in_call_.store(true);
        if (woken_.load()) {
            in_call_.store(false);
            return false;
        }
        return true;
    }
    void Leave() { in_call_.store(false); }
    bool woken() const { return woken_.load(); }

    // Any thread. Sticky: every later Enter() returns false.
    void Wake() {
        woken_.store(true);
        while (in_call_.load()) {
            pthread_kill(thread_, WakeSignal());
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

  private:
    std::atomic<bool> woken_{false};
    std::atomic<bool> in_call_{false};
    pthread_t thread_{};  // written before in_call_ is set, read after it is seen set
    bool unblocked_ = false;
};

// What a waiter on a queue handle shares: the queue, kept alive by a reference to its JS
// object, and detached when the waiter closes.
class QueueWaiter : public Waiter {
  protected:
    QueueWaiter(Napi::Env env, SysvMsg& queue, Napi::Value queue_object)
        : Waiter(env),
          queue_(&queue),
          queue_ref_(Napi::Reference<Napi::Value>::New(queue_object, 1)),
          id_(queue.id()) {
        queue.Attach(this);
    }

    void Wake() override { interrupter_.Wake(); }

    void ReleaseWaitResources() override {
        queue_->Detach(this);
        queue_ = nullptr;
        queue_ref_.Reset();
    }

    SysvMsg* queue_;  // the thread uses it only for Hold(), which is thread-safe
    Napi::Reference<Napi::Value> queue_ref_;
    const int id_;
    Interrupter interrupter_;
};

class RecvWaiter final : public QueueWaiter {
  public:
    RecvWaiter(Napi::Env env, SysvMsg& queue, Napi::Value queue_object, long msgtyp, int flags)
        : QueueWaiter(env, queue, queue_object), msgtyp_(msgtyp), flags_(flags) {}

  protected:
    Outcome Wait() override {
        if (!interrupter_.Enter()) return {Outcome::kWoken};
        struct {
            long mtype;
            char mtext[1];
        } message = {};
        for (;;) {
            ssize_t n = msgrcv(id_, &message, 0, msgtyp_, flags_);
            int err = errno;
            if (n >= 0) {
                // A zero-length message fit the zero-byte buffer and was taken.
                queue_->Hold(message.mtype);
                interrupter_.Leave();
                return {Outcome::kReady};
            }
            if (err == E2BIG) {
                interrupter_.Leave();
                return {Outcome::kReady};
            }
            if (err == EINTR && !interrupter_.woken()) continue;  // another signal
            interrupter_.Leave();
            if (err == EINTR) return {Outcome::kWoken};
            return {Outcome::kError, err, "msgrcv"};
        }
    }

  private:
    const long msgtyp_;
    const int flags_;
};

// Sends one message at a time with a blocking msgsnd: loaded with a message and armed, it
// sends, reports, and waits to be loaded again (msgSendWaiterLoad), so one thread serves every
// time the queue is full. Which waiters are send waiters is kept in a set, because a waiter
// handle only says it is a waiter (and there is no RTTI to ask more).
class SendWaiter final : public QueueWaiter {
  public:
    SendWaiter(Napi::Env env, SysvMsg& queue, Napi::Value queue_object)
        : QueueWaiter(env, queue, queue_object) {
        std::lock_guard<std::mutex> lock(RegistryMutex());
        Registry().insert(this);
    }
    ~SendWaiter() override {
        std::lock_guard<std::mutex> lock(RegistryMutex());
        Registry().erase(this);
    }

    // The send waiter behind a waiter handle, or nullptr for another kind of waiter.
    static SendWaiter* From(Waiter& waiter) {
        std::lock_guard<std::mutex> lock(RegistryMutex());
        auto it = Registry().find(&waiter);
        return it == Registry().end() ? nullptr : static_cast<SendWaiter*>(*it);
    }

    // Main thread: gives the next message. false while the previous one is still being sent.
    bool Load(long type, const void* text, size_t length) {
        std::lock_guard<std::mutex> lock(load_mutex_);
        if (loaded_) return false;
        message_.resize(sizeof(long) + length);
        std::memcpy(message_.data(), &type, sizeof(long));
        if (length > 0) std::memcpy(message_.data() + sizeof(long), text, length);
        loaded_ = true;
        load_changed_.notify_all();
        return true;
    }

  protected:
    Outcome Wait() override {
        {
            // Armed without a message (waiterArm): wait for one, or for close.
            std::unique_lock<std::mutex> lock(load_mutex_);
            load_changed_.wait(lock, [this] { return loaded_ || woken_; });
            if (!loaded_) return {Outcome::kWoken};
        }
        Outcome outcome = Send();
        if (outcome.kind != Outcome::kWoken) {
            std::lock_guard<std::mutex> lock(load_mutex_);
            loaded_ = false;  // sent, or failed for good: ready for the next one
        }
        return outcome;
    }

    void Wake() override {
        {
            std::lock_guard<std::mutex> lock(load_mutex_);
            woken_ = true;
            load_changed_.notify_all();
        }
        QueueWaiter::Wake();
    }

  private:
    Outcome Send() {
        if (!interrupter_.Enter()) return {Outcome::kWoken};
        for (;;) {
            int result = msgsnd(id_, message_.data(), message_.size() - sizeof(long), 0);
            int err = errno;
            if (result == 0) {
                interrupter_.Leave();
                return {Outcome::kReady};
            }
            if (err == EINTR && !interrupter_.woken()) continue;
            interrupter_.Leave();
            if (err == EINTR) return {Outcome::kWoken};
            return {Outcome::kError, err, "msgsnd"};
        }
    }

    static std::mutex& RegistryMutex() {
        static auto* mutex = new std::mutex();  // leaked: see fd.cc's table
        return *mutex;
    }
    static std::unordered_set<Waiter*>& Registry() {
        static auto* set = new std::unordered_set<Waiter*>();
        return *set;
    }

    std::mutex load_mutex_;
    std::condition_variable load_changed_;
    bool loaded_ = false;  // guarded by load_mutex_
    bool woken_ = false;   // guarded by load_mutex_
    // Written by Load while loaded_ is false, read by the thread while it is true.
    std::vector<char> message_;
};

// ---- argument helpers -------------------------------------------------------------------

// A System V key: any 32-bit value, given signed or unsigned (ftok's result, 0x1234).
key_t KeyArg(const Napi::CallbackInfo& info, size_t index) {
    int64_t key = IntegerArg(info, index, "key", INT32_MIN, UINT32_MAX);
    return static_cast<key_t>(static_cast<int32_t>(static_cast<uint32_t>(key)));
}

// The text of one message to send: an ArrayBufferView of at most kMaxText bytes.
Bytes MessageArg(const Napi::CallbackInfo& info, size_t index) {
    Bytes message = ViewBytesFast(info.Env(), info[index], "message");
    if (message.length > kMaxText) {
        throw ArgRangeError(info.Env(), "message.byteLength", "<= " + std::to_string(kMaxText),
                            std::to_string(message.length));
    }
    return message;
}

Napi::TypeError InvalidValue(Napi::Env env, const std::string& message) {
    Napi::TypeError error = Napi::TypeError::New(env, message);
    SetCode(error, "ERR_INVALID_ARG_VALUE");
    return error;
}

int ModeOption(const std::optional<Napi::Object>& options) {
    if (!options) return 0600;
    Napi::Value value = options->Get("mode");
    if (value.IsUndefined()) return 0600;
    Napi::Env env = options->Env();
    if (!value.IsNumber()) throw ArgTypeError(env, "options.mode", "of type number", value);
    double mode = value.As<Napi::Number>().DoubleValue();
    if (!(mode >= 0 && mode <= 0777) || static_cast<double>(static_cast<int>(mode)) != mode) {
        throw ArgRangeError(env, "options.mode", "an integer >= 0 and <= 511 (0o777)",
                            value.ToString().Utf8Value());
    }
    return static_cast<int>(mode);
}

// msgrcv's selector: msgtyp (any long that JS can hold) and MSG_EXCEPT.
int ReceiveFlags(const std::optional<Napi::Object>& options, long msgtyp) {
    bool except = BoolOption(options, "except", "options.except", false);
    if (except && msgtyp <= 0) {
        throw InvalidValue(options->Env(),
                           "options.except needs a positive msgtyp (MSG_EXCEPT takes the first "
                           "message whose type is not msgtyp)");
    }
    return except ? MSG_EXCEPT : 0;
}

Napi::Value NewQueueHandle(Napi::Env env, int id, key_t key) {
    return WrapHandle(env, new SysvMsg(env, id, key));
}

// msgsnd(2) with IPC_NOWAIT of one message, laid out as a struct msgbuf in `buffer` (the
// queue's scratch, with room for message.length bytes of text). EINTR is retried. Returns 0,
// or the errno (EAGAIN when the queue is full).
int SendNowait(int id, char* buffer, long type, const Bytes& message) {
    std::memcpy(buffer, &type, sizeof type);
    if (message.length > 0) std::memcpy(buffer + sizeof type, message.data, message.length);
    int result;
    do {
        result = msgsnd(id, buffer, message.length, IPC_NOWAIT);
    } while (result == -1 && errno == EINTR);
    return result == -1 ? errno : 0;
}

// ---- exports ------------------------------------------------------------------------------

/* ftok(path: string, projectId: number): number
   ftok(3): the key for an existing file and a project id 1 .. 255 (ftok uses its low 8 bits,
   and 0 is reserved). Returned as an unsigned 32-bit number (0x...); the same file and id
   give the same key in every process. Errors (syscall 'ftok', path): ENOENT, EACCES. */
Napi::Value Ftok(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = StringArg(info, 0, "path");
    int project = static_cast<int>(IntegerArg(info, 1, "projectId", 1, 255));
    if (path.find('\0') != std::string::npos) {
        throw InvalidValue(env, "The \"path\" argument must not contain NUL characters");
    }
    key_t key = ftok(path.c_str(), project);
    if (key == -1) throw ErrnoError(env, errno, "ftok", path.c_str());
    return Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(key)));
}

/* msgget(key: number, options?: { create?: boolean; exclusive?: boolean; mode?: number }):
   SysvMsgHandle
   msgget(2): the queue of `key` (a 32-bit value; 0 is IPC_PRIVATE, which always makes a new
   queue and so needs create: true). create is IPC_CREAT, exclusive IPC_EXCL (only with
   create), mode (default 0600) the permissions of a new queue. The handle holds the id; it
   removes nothing on close. Errors (syscall 'msgget'): ENOENT, EEXIST, EACCES, ENOSPC
   (msgmni). */
Napi::Value Msgget(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    key_t key = KeyArg(info, 0);
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool create = BoolOption(options, "create", "options.create", false);
    bool exclusive = BoolOption(options, "exclusive", "options.exclusive", false);
    int mode = ModeOption(options);
    if (key == IPC_PRIVATE && !create) {
        throw InvalidValue(env,
                           "msgget: key 0 is IPC_PRIVATE, which always creates a new queue; "
                           "pass options.create: true to mean it");
    }
    if (exclusive && !create) throw InvalidValue(env, "msgget: options.exclusive needs create");
    int flags = mode | (create ? IPC_CREAT : 0) | (exclusive ? IPC_EXCL : 0);
    int id = msgget(key, flags);
    if (id == -1) throw ErrnoError(env, errno, "msgget");
    return NewQueueHandle(env, id, key);
}

/* msgOpenId(id: number): SysvMsgHandle
   A handle for an existing queue identifier (what msgget returned here or in another
   process, as `ipcs -q` lists it), checked with msgctl(IPC_STAT). Errors (syscall 'msgctl'):
   EINVAL (no such queue), EIDRM, EACCES. */
Napi::Value MsgOpenId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int id = static_cast<int>(IntegerArg(info, 0, "id", 0, INT_MAX));
    struct msqid_ds stat = {};
    if (msgctl(id, IPC_STAT, &stat) == -1) throw ErrnoError(env, errno, "msgctl");
    return NewQueueHandle(env, id, stat.msg_perm.__key);
}

/* msgId(queue: SysvMsgHandle): number
   The queue identifier, or -1 once the handle is closed. Never a system call. */
Napi::Value MsgId(const Napi::CallbackInfo& info) {
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue", /*allow_closed=*/true);
    return Napi::Number::New(info.Env(), queue.closed() ? -1 : queue.id());
}

/* msgsnd(queue: SysvMsgHandle, type: number, message: ArrayBufferView): boolean
   msgsnd(2) with IPC_NOWAIT: a message of `type` (1 .. 2^53-1) with the view's bytes. Returns
   false when the queue is full (EAGAIN). EINTR is retried. Errors (syscall 'msgsnd'): EINVAL
   (the queue is gone, or the message is longer than msgmax), EIDRM, EACCES, ENOMEM. */
Napi::Value Msgsnd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    long type = static_cast<long>(IntegerArg(info, 1, "type", 1, kMaxType));
    Bytes message = MessageArg(info, 2);
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");

    int err = SendNowait(queue.id(), queue.Scratch(message.length), type, message);
    if (err == EAGAIN) return Napi::Boolean::New(env, false);
    if (err != 0) throw ErrnoError(env, err, "msgsnd");
    return Napi::Boolean::New(env, true);
}

/* msgsndMany(queue: SysvMsgHandle, messages: readonly ArrayBufferView[], start: number,
               end: number, types: number | Float64Array): number
   msgsnd(2) with IPC_NOWAIT of messages[start], messages[start + 1], ... before messages[end]
   (at most kMaxSendMany = 1024 per call; RangeError beyond), in order, stopping at the first
   that the queue refuses. types is one type for all (1 .. 2^53-1) or a Float64Array whose
   element i - start is the type of messages[i] (every type and length checked before
   anything is sent). Returns how many were sent: fewer than end - start when the queue filled
   up (EAGAIN), or when a later send failed (that message is then the first of the next call,
   which throws). EINTR is retried. Errors (syscall 'msgsnd'), only when the first message
   fails: EINVAL (the queue is gone, or the message is longer than msgmax), EIDRM, EACCES,
   ENOMEM. One call instead of one per message: the batch crosses the JS boundary once. Each
   message is copied into the handle's scratch buffer (struct msgbuf) just before its msgsnd;
   nothing is retained. */
Napi::Value MsgsndMany(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // Every argument but the handle, pointers last (batch_args.h); then the handle.
    SendBatch<double> batch = SendBatchArgs<double>(info, "types", 1, kMaxType, kMaxText);
    size_t count = batch.messages.size();
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");

    char* buffer = queue.Scratch(batch.longest);
    size_t sent = 0;
    for (; sent < count; sent++) {
        auto type = static_cast<long>(batch.numbers[sent]);
        int err = SendNowait(queue.id(), buffer, type, batch.messages[sent]);
        if (err == 0) continue;
        if (err == EAGAIN || sent > 0) break;  // full; or report what was sent, fail next time
        throw ErrnoError(env, err, "msgsnd");
    }
    return Napi::Number::New(env, static_cast<double>(sent));
}

/* msgrcv(queue: SysvMsgHandle, target: ArrayBufferView, msgtyp: number,
          options?: { except?: boolean }, type?: Float64Array, offset?: number): number | null
   msgrcv(2) with IPC_NOWAIT into target from byte offset (default 0, at most target's byte
   length; a caller that packs messages into one buffer needs no view per call): msgtyp 0
   takes the first message, > 0 the first of that type (with except: the first of any other
   type, MSG_EXCEPT), < 0 the first of the lowest type <= |msgtyp|. Returns the text length,
   or null when no such message is there (ENOMSG); writes the message's type to type[0] when
   given (undefined for none). A zero-length message a msgRecvWaiter of this handle took
   while peeking is returned first. A message longer than the room after offset stays in the
   queue: E2BIG. EINTR is retried. Errors (syscall 'msgrcv'): E2BIG, EINVAL (the queue is
   gone), EIDRM, EACCES. */
Napi::Value Msgrcv(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // The options first: their getters may run user code (see args.h).
    long msgtyp = static_cast<long>(IntegerArg(info, 2, "msgtyp", -kMaxType, kMaxType));
    std::optional<Napi::Object> options = OptionsArg(info, 3, "options");
    int flags = ReceiveFlags(options, msgtyp) | IPC_NOWAIT;
    Bytes target = ViewBytesFast(env, info[1], "target");
    double* type_out = OutArg<double>(env, info[4], "type");
    if (!info[5].IsUndefined()) {
        auto offset = static_cast<size_t>(
            IntegerArg(info, 5, "offset", 0, static_cast<int64_t>(target.length)));
        target.data = static_cast<char*>(target.data) + offset;
        target.length -= offset;
    }
    size_t length = std::min(target.length, kMaxText);
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");

    long held;
    if (queue.TakeHeld(&held)) {
        if (type_out != nullptr) *type_out = static_cast<double>(held);
        return Napi::Number::New(env, 0);
    }

    char* buffer = queue.Scratch(length);
    ssize_t n;
    do {
        n = msgrcv(queue.id(), buffer, length, msgtyp, flags);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && errno == ENOMSG) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "msgrcv");
    long type;
    std::memcpy(&type, buffer, sizeof type);
    if (n > 0) std::memcpy(target.data, buffer + sizeof type, static_cast<size_t>(n));
    if (type_out != nullptr) *type_out = static_cast<double>(type);
    return Napi::Number::New(env, static_cast<double>(n));
}

/* msgStat(queue: SysvMsgHandle): { key, id, mode, uid, gid, cuid, cgid, messages, bytes,
   maxBytes, lastSendPid, lastReceivePid, sendTime, receiveTime, changeTime }
   msgctl(2) IPC_STAT: key (unsigned), permission bits, owner and creator, msg_qnum,
   __msg_cbytes, msg_qbytes, msg_lspid, msg_lrpid, and the times in seconds since the epoch.
   Errors (syscall 'msgctl'): EINVAL (the queue is gone), EIDRM, EACCES. */
Napi::Value MsgStat(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");
    struct msqid_ds stat = {};
    if (msgctl(queue.id(), IPC_STAT, &stat) == -1) throw ErrnoError(env, errno, "msgctl");
    Napi::Object result = Napi::Object::New(env);
    auto set = [&](const char* name, double value) {
        result.Set(name, Napi::Number::New(env, value));
    };
    set("key", static_cast<uint32_t>(stat.msg_perm.__key));
    set("id", queue.id());
    set("mode", stat.msg_perm.mode & 0777);
    set("uid", stat.msg_perm.uid);
    set("gid", stat.msg_perm.gid);
    set("cuid", stat.msg_perm.cuid);
    set("cgid", stat.msg_perm.cgid);
    set("messages", static_cast<double>(stat.msg_qnum));
    set("bytes", static_cast<double>(stat.__msg_cbytes));
    set("maxBytes", static_cast<double>(stat.msg_qbytes));
    set("lastSendPid", stat.msg_lspid);
    set("lastReceivePid", stat.msg_lrpid);
    set("sendTime", static_cast<double>(stat.msg_stime));
    set("receiveTime", static_cast<double>(stat.msg_rtime));
    set("changeTime", static_cast<double>(stat.msg_ctime));
    return result;
}

/* msgRmid(queue: SysvMsgHandle): void
   msgctl(2) IPC_RMID: removes the queue now; its messages are lost, and every process
   blocked on it (waiters included) gets EIDRM. The handle stays open (calls on it then fail
   with EINVAL); close it as usual. Errors (syscall 'msgctl'): EINVAL (already gone), EPERM. */
Napi::Value MsgRmid(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");
    if (msgctl(queue.id(), IPC_RMID, nullptr) == -1) throw ErrnoError(env, errno, "msgctl");
    return env.Undefined();
}

/* msgClose(queue: SysvMsgHandle): void
   Closes the handle: closes its waiters first (wakes and joins their threads), then puts
   back a zero-length message a waiter took and nobody received. The queue stays (msgRmid
   removes it). Idempotent. */
Napi::Value MsgClose(const Napi::CallbackInfo& info) {
    UnwrapHandle<SysvMsg>(info, 0, "queue", /*allow_closed=*/true).Close();
    return info.Env().Undefined();
}

int InstallOrThrow(Napi::Env env) {
    int err = InstallWakeHandler();
    if (err == EBUSY) {
        std::string hint = "signal " + std::to_string(WakeSignal()) +
                           " (SIGRTMAX-2), which wakes System V queue waiters, already has "
                           "another handler in this process";
        throw ErrnoError(env, err, "sigaction", nullptr, hint.c_str());
    }
    if (err != 0) throw ErrnoError(env, err, "sigaction");
    return 0;
}

/* msgRecvWaiter(queue: SysvMsgHandle, msgtyp: number, options: { except?: boolean } |
                 undefined, callback: (error: SystemError | null) => void): WaiterHandle
   A waiter thread (not the libuv pool) that blocks until a message msgrcv(queue, msgtyp,
   options) would take is in the queue, then calls callback(null) on the event loop and
   sleeps until waiterArm. It peeks (see the top of this file), so the message stays for the
   event loop's msgrcv; a zero-length message is taken and held by the queue handle. Created
   armed. callback(error): EIDRM when the queue is removed during the wait, EINVAL when it
   was gone already (syscall 'msgrcv'). Closing the queue handle closes the waiter first.
   Errors: EAGAIN (syscall 'pthread_create'), EBUSY (syscall 'sigaction') when another
   handler owns the wake-up signal. */
Napi::Value MsgRecvWaiter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    long msgtyp = static_cast<long>(IntegerArg(info, 1, "msgtyp", -kMaxType, kMaxType));
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    int flags = ReceiveFlags(options, msgtyp);
    Napi::Function callback = FunctionArg(info, 3, "callback");
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");
    InstallOrThrow(env);
    auto* waiter = new RecvWaiter(env, queue, info[0], msgtyp, flags);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

/* msgSendWaiter(queue: SysvMsgHandle, type: number, message: ArrayBufferView,
                 callback: (error: SystemError | null) => void): WaiterHandle
   A waiter thread that sends a message (copied now) with a blocking msgsnd(2), for a queue
   that was full: callback(null) once the kernel accepted it, callback(error) if the send
   failed (EIDRM when the queue was removed meanwhile, EINVAL; syscall 'msgsnd'). Then it
   sleeps until msgSendWaiterLoad gives it the next message. Closing the waiter (or the queue
   handle) interrupts a send in progress: that message is not sent. Errors: as
   msgRecvWaiter. */
Napi::Value MsgSendWaiter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    long type = static_cast<long>(IntegerArg(info, 1, "type", 1, kMaxType));
    Napi::Function callback = FunctionArg(info, 3, "callback");
    Bytes message = MessageArg(info, 2);
    SysvMsg& queue = UnwrapHandle<SysvMsg>(info, 0, "queue");
    InstallOrThrow(env);
    auto* waiter = new SendWaiter(env, queue, info[0]);
    waiter->Load(type, message.data, message.length);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

/* msgSendWaiterLoad(waiter: WaiterHandle, type: number, message: ArrayBufferView): void
   Gives a send waiter its next message (copied now) and arms it: it sends with a blocking
   msgsnd(2) and reports as before. TypeError ERR_RXIPC_BAD_HANDLE for a closed waiter or one
   that is no send waiter; Error ERR_RXIPC_BUSY while its previous message is not sent yet. */
Napi::Value MsgSendWaiterLoad(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    long type = static_cast<long>(IntegerArg(info, 1, "type", 1, kMaxType));
    Bytes message = MessageArg(info, 2);
    Waiter& waiter = UnwrapHandle<Waiter>(info, 0, "waiter");
    SendWaiter* sender = SendWaiter::From(waiter);
    if (sender == nullptr) {
        throw BadHandleError(env, "waiter", "an open send waiter (msgSendWaiter)",
                             "another kind of waiter");
    }
    if (!sender->Load(type, message.data, message.length)) {
        Napi::Error error =
            Napi::Error::New(env, "msgSendWaiterLoad: the previous message is still being sent");
        SetCode(error, "ERR_RXIPC_BUSY");
        throw error;
    }
    sender->Arm();
    return env.Undefined();
}

}  // namespace

void ExportSysvMsg(Napi::Env env, Napi::Object exports) {
    SetFunction<Ftok>(env, exports, "ftok");
    SetFunction<Msgget>(env, exports, "msgget");
    SetFunction<MsgOpenId>(env, exports, "msgOpenId");
    SetFunction<MsgId>(env, exports, "msgId");
    SetFunction<Msgsnd>(env, exports, "msgsnd");
    SetFunction<MsgsndMany>(env, exports, "msgsndMany");
    SetFunction<Msgrcv>(env, exports, "msgrcv");
    SetFunction<MsgStat>(env, exports, "msgStat");
    SetFunction<MsgRmid>(env, exports, "msgRmid");
    SetFunction<MsgClose>(env, exports, "msgClose");
    SetFunction<MsgRecvWaiter>(env, exports, "msgRecvWaiter");
    SetFunction<MsgSendWaiter>(env, exports, "msgSendWaiter");
    SetFunction<MsgSendWaiterLoad>(env, exports, "msgSendWaiterLoad");
}

}  // namespace rxipc
