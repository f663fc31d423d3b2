// System V semaphore sets (sysvipc(7), semget(2), semop(2), semctl(2)). The event loop only
// ever calls semop with IPC_NOWAIT; blocking operations happen in a lock waiter's thread,
// interrupted by a signal (semop(2): "EINTR While blocked in this system call, the thread
// caught a signal"; signal(7): never restarted, whatever SA_RESTART says).
//
// semop(2): "The set of operations contained in sops is performed in array order, and
// atomically, that is, the operations are performed either as a complete unit, or not at
// all." SEM_UNDO is per operation, chosen by the caller (the adapters default to it): "If an
// operation specifies SEM_UNDO, it will be automatically undone when the process terminates."
//
// A handle holds an identifier, not a descriptor: closing it closes its waiters and removes
// nothing; sysvSemRemove (IPC_RMID) removes the set.
#include <sys/ipc.h>
#include <sys/sem.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "export.h"
#include "lock_waiter.h"

namespace rxipc {
namespace {

// semctl(2): "SEMVMX Maximum value for semval: implementation dependent (32767)".
constexpr int kSemVmx = 32767;
// The most operations one call takes here; the kernel's own limit (SEMOPM) is lower.
constexpr uint32_t kMaxOps = 65535;

// semctl(2): "the calling program must define this union as follows".
union semun {
    int val;
    struct semid_ds* buf;
    unsigned short* array;
};

class SysvSem final : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kSysvSem;

    SysvSem(Napi::Env env, int id, int nsems) : Handle(env, kKind), id_(id), nsems_(nsems) {}

    int id() const { return id_; }
    int nsems() const { return nsems_; }
    Dependents& dependents() { return dependents_; }

  protected:
    int DoClose() override {
        dependents_.CloseAll();
        return 0;
    }

  private:
    const int id_;
    const int nsems_;
    Dependents dependents_;
};

// /proc/sys/kernel/sem: "SEMMSL SEMMNS SEMOPM SEMMNI" (proc(5)); -1 where unreadable.
struct SemLimits {
    long semmsl = -1, semmns = -1, semopm = -1, semmni = -1;
};

SemLimits ReadLimits() {
    SemLimits limits;
    if (FILE* file = std::fopen("/proc/sys/kernel/sem", "r")) {
        if (std::fscanf(file, "%ld %ld %ld %ld", &limits.semmsl, &limits.semmns, &limits.semopm,
                        &limits.semmni) != 4) {
            limits = SemLimits{};
        }
        std::fclose(file);
    }
    return limits;
}

// An actionable hint for the errnos whose cause is a limit or a gone set.
std::string Hint(int err, const char* syscall, size_t nops, int64_t nsems) {
    SemLimits limits = ReadLimits();
    std::string call = syscall;
    switch (err) {
        case ERANGE:
            return "a semaphore's value would exceed SEMVMX (" + std::to_string(kSemVmx) +
                   ") or go below 0";
        case E2BIG:
            return std::to_string(nops) + " operations exceed SEMOPM (" +
                   std::to_string(limits.semopm) + "; see /proc/sys/kernel/sem)";
        case EFBIG:
            return "a sem_num is beyond the set's semaphores";
        case EIDRM:
            return "the set was removed";
        case ENOSPC:
            return "the system limit on sets (SEMMNI " + std::to_string(limits.semmni) +
                   ") or semaphores (SEMMNS " + std::to_string(limits.semmns) +
                   ") is reached; see /proc/sys/kernel/sem, ipcs -s";
        case ENOENT:
            return "no set has this key; create it first";
        case EEXIST:
            return "a set with this key exists; open it without exclusive, or remove it";
        case EINVAL:
            if (call == "semget" && nsems > limits.semmsl && limits.semmsl >= 0) {
                return "nsems " + std::to_string(nsems) + " exceeds SEMMSL " +
                       std::to_string(limits.semmsl) + " (see /proc/sys/kernel/sem)";
            }
            if (call == "semget") {
                return "the set exists with fewer semaphores than asked, or nsems is 0 for a new "
                       "set";
            }
            return "the set does not exist (removed?)";
        default:
            return std::string();
    }
}

Napi::Error SemError(Napi::Env env, int err, const char* syscall, size_t nops = 0,
                     int64_t nsems = 0) {
    std::string hint = Hint(err, syscall, nops, nsems);
    return ErrnoError(env, err, syscall, nullptr, hint.empty() ? nullptr : hint.c_str());
}

// A System V key: any 32-bit value, given signed or unsigned (ftok's result, 0x1234).
key_t KeyArg(const Napi::CallbackInfo& info, size_t index) {
    int64_t key = IntegerArg(info, index, "key", INT32_MIN, UINT32_MAX);
    return static_cast<key_t>(static_cast<int32_t>(static_cast<uint32_t>(key)));
}

// ops: Array<{ num: number; op: number; undo?: boolean; nowait?: boolean }>. Reads every
// element (getters may run) before the caller unwraps a handle.
std::vector<struct sembuf> OpsArg(const Napi::CallbackInfo& info, size_t index, const char* name,
                                  bool allow_empty) {
    Napi::Env env = info.Env();
    Napi::Value value = info[index];
    if (!value.IsArray()) {
        throw ArgTypeError(env, name, "an array of { num, op, undo?, nowait? }", value);
    }
    Napi::Array array = value.As<Napi::Array>();
    uint32_t length = array.Length();
    if (length > kMaxOps || (length == 0 && !allow_empty)) {
        throw ArgRangeError(
            env, (std::string(name) + ".length").c_str(),
            std::string(allow_empty ? ">= 0" : ">= 1") + " and <= " + std::to_string(kMaxOps),
            std::to_string(length));
    }
    std::vector<struct sembuf> ops;
    ops.reserve(length);
    for (uint32_t i = 0; i < length; i++) {
        std::string prefix = std::string(name) + "[" + std::to_string(i) + "]";
        Napi::Value element = array.Get(i);
        if (element.Type() != napi_object || element.IsArray()) {
            throw ArgTypeError(env, prefix.c_str(), "of type object", element);
        }
        std::optional<Napi::Object> object = element.As<Napi::Object>();
        std::string num_name = prefix + ".num";
        std::string op_name = prefix + ".op";
        auto num = OptionalIntegerOption(object, "num", num_name.c_str(), 0, USHRT_MAX);
        // struct sembuf's sem_op is a short.
        auto op = OptionalIntegerOption(object, "op", op_name.c_str(), SHRT_MIN, SHRT_MAX);
        bool undo = BoolOption(object, "undo", (prefix + ".undo").c_str(), false);
        bool nowait = BoolOption(object, "nowait", (prefix + ".nowait").c_str(), false);
        if (!num || !op) {
            throw InvalidArgValue(env, prefix + " must have integer num and op");
        }
        struct sembuf sop = {};
        sop.sem_num = static_cast<unsigned short>(*num);
        sop.sem_op = static_cast<short>(*op);
        sop.sem_flg = static_cast<short>((undo ? SEM_UNDO : 0) | (nowait ? IPC_NOWAIT : 0));
        ops.push_back(sop);
    }
    return ops;
}

// One blocking semop at a time in the waiter's thread; a release applies `rollback` (the
// caller's inverse operations) with IPC_NOWAIT, which cannot block when it only adds back.
class SemopWaiter final : public SignalLockWaiter {
  public:
    SemopWaiter(Napi::Env env, SysvSem& set, Napi::Value set_object, std::vector<struct sembuf> ops,
                std::vector<struct sembuf> rollback)
        : SignalLockWaiter(env),
          set_(&set),
          set_ref_(Napi::Reference<Napi::Value>::New(set_object, 1)),
          id_(set.id()),
          ops_(std::move(ops)),
          rollback_(std::move(rollback)) {
        for (auto& op : rollback_) op.sem_flg |= IPC_NOWAIT;
        set.dependents().Attach(this);
    }

  protected:
    int Acquire(const char** syscall) override {
        return AcquireInterruptibly("semop", syscall,
                                    [this] { return semop(id_, ops_.data(), ops_.size()); });
    }

    int ReleaseAcquired(bool /*mark_consistent*/, const char** syscall) override {
        if (rollback_.empty()) return 0;
        int result;
        do {
            result = semop(id_, rollback_.data(), rollback_.size());
        } while (result == -1 && errno == EINTR);
        if (result == 0) return 0;
        *syscall = "semop";
        return errno;
    }

    void DetachTarget() override {
        if (set_ == nullptr) return;
        set_->dependents().Detach(this);
        set_ = nullptr;
        set_ref_.Reset();
    }

  private:
    SysvSem* set_;
    Napi::Reference<Napi::Value> set_ref_;
    const int id_;
    std::vector<struct sembuf> ops_;
    std::vector<struct sembuf> rollback_;
};

int Stat(int id, struct semid_ds* stat) {
    union semun arg = {};
    arg.buf = stat;
    return semctl(id, 0, IPC_STAT, arg);
}

Napi::Value NewSetHandle(Napi::Env env, int id) {
    struct semid_ds stat = {};
    if (Stat(id, &stat) == -1) throw SemError(env, errno, "semctl");
    return WrapHandle(env, new SysvSem(env, id, static_cast<int>(stat.sem_nsems)));
}

// ---- exports ------------------------------------------------------------------------------

/* sysvSemGet(key: number, nsems: number, options?: { create?: boolean; exclusive?: boolean;
              mode?: number }): SysvSemHandle
   semget(2): the set of `key` (a 32-bit value; 0 is IPC_PRIVATE, which always makes a new set
   and so needs create: true). nsems (0 .. INT_MAX; 0 opens an existing set whatever its size)
   is checked by the kernel against SEMMSL. create is IPC_CREAT, exclusive IPC_EXCL (only with
   create), mode (default 0o600) the permissions of a new set. A new set's values are 0.
   Errors (syscall 'semget', with a hint): ENOENT, EEXIST, EACCES, EINVAL (nsems above SEMMSL,
   or more than the existing set has), ENOSPC (SEMMNI, SEMMNS). */
Napi::Value SysvSemGet(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    key_t key = KeyArg(info, 0);
    int64_t nsems = IntegerArg(info, 1, "nsems", 0, INT_MAX);
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    bool create = BoolOption(options, "create", "options.create", false);
    bool exclusive = BoolOption(options, "exclusive", "options.exclusive", false);
    int64_t mode = OptionalIntegerOption(options, "mode", "options.mode", 0, 0777).value_or(0600);
    if (key == IPC_PRIVATE && !create) {
        throw InvalidArgValue(env,
                              "sysvSemGet: key 0 is IPC_PRIVATE, which always creates a new set; "
                              "pass options.create: true to mean it");
    }
    if (exclusive && !create)
        throw InvalidArgValue(env, "sysvSemGet: options.exclusive needs create");
    int flags = static_cast<int>(mode) | (create ? IPC_CREAT : 0) | (exclusive ? IPC_EXCL : 0);
    int id = semget(key, static_cast<int>(nsems), flags);
    if (id == -1) throw SemError(env, errno, "semget", 0, nsems);
    return NewSetHandle(env, id);
}

/* sysvSemOpenId(id: number): SysvSemHandle
   A handle for an existing set identifier (from semget here or in another process, as
   `ipcs -s` lists it), checked with semctl(IPC_STAT). Errors (syscall 'semctl'): EINVAL (no
   such set), EIDRM, EACCES. */
Napi::Value SysvSemOpenId(const Napi::CallbackInfo& info) {
    int id = static_cast<int>(IntegerArg(info, 0, "id", 0, INT_MAX));
    return NewSetHandle(info.Env(), id);
}

/* sysvSemStat(set: SysvSemHandle): { key, id, nsems, mode, uid, gid, cuid, cgid, otime,
   ctime } — semctl(IPC_STAT). key is unsigned 32-bit (0 for IPC_PRIVATE); times are seconds
   since the epoch (otime 0: no semop yet). Errors (syscall 'semctl'): EINVAL, EIDRM. */
Napi::Value SysvSemStat(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    struct semid_ds stat = {};
    if (Stat(set.id(), &stat) == -1) throw SemError(env, errno, "semctl");
    Napi::Object result = Napi::Object::New(env);
    result.Set("key", static_cast<double>(static_cast<uint32_t>(stat.sem_perm.__key)));
    result.Set("id", set.id());
    result.Set("nsems", static_cast<double>(stat.sem_nsems));
    result.Set("mode", static_cast<double>(stat.sem_perm.mode & 0777));
    result.Set("uid", static_cast<double>(stat.sem_perm.uid));
    result.Set("gid", static_cast<double>(stat.sem_perm.gid));
    result.Set("cuid", static_cast<double>(stat.sem_perm.cuid));
    result.Set("cgid", static_cast<double>(stat.sem_perm.cgid));
    result.Set("otime", static_cast<double>(stat.sem_otime));
    result.Set("ctime", static_cast<double>(stat.sem_ctime));
    return result;
}

/* sysvSemOp(set: SysvSemHandle, ops: Array<{ num, op, undo?, nowait? }>): boolean
   semop(2) of every operation at once, atomically, with IPC_NOWAIT forced on each: true when
   done, false when it would block (EAGAIN; nothing was done). num is 0 .. 65535, op a short
   (-32768 .. 32767), undo is SEM_UNDO. EINTR is retried. Errors (syscall 'semop', with a
   hint): ERANGE (a value would pass SEMVMX 32767), E2BIG (more than SEMOPM operations), EFBIG
   (num beyond the set), EIDRM/EINVAL (the set is gone), EACCES. */
Napi::Value SysvSemOp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<struct sembuf> ops = OpsArg(info, 1, "ops", /*allow_empty=*/false);
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    for (auto& op : ops) op.sem_flg |= IPC_NOWAIT;
    int result;
    do {
        result = semop(set.id(), ops.data(), ops.size());
    } while (result == -1 && errno == EINTR);
    if (result == 0) return Napi::Boolean::New(env, true);
    if (errno == EAGAIN) return Napi::Boolean::New(env, false);
    throw SemError(env, errno, "semop", ops.size());
}

/* sysvSemGetValue(set: SysvSemHandle, num: number): number
   semctl(GETVAL). Errors (syscall 'semctl'): EINVAL (num beyond the set, or no set), EIDRM. */
Napi::Value SysvSemGetValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int num = static_cast<int>(IntegerArg(info, 1, "num", 0, USHRT_MAX));
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    int value = semctl(set.id(), num, GETVAL);
    if (value == -1) throw SemError(env, errno, "semctl");
    return Napi::Number::New(env, value);
}

/* sysvSemGetAll(set: SysvSemHandle): number[]
   semctl(GETALL): every value, in order. Errors (syscall 'semctl'): EINVAL, EIDRM. */
Napi::Value SysvSemGetAll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    std::vector<unsigned short> values(static_cast<size_t>(set.nsems()) + 1);
    union semun arg = {};
    arg.array = values.data();
    if (semctl(set.id(), 0, GETALL, arg) == -1) throw SemError(env, errno, "semctl");
    Napi::Array result = Napi::Array::New(env, static_cast<size_t>(set.nsems()));
    for (int i = 0; i < set.nsems(); i++) result.Set(static_cast<uint32_t>(i), values[i]);
    return result;
}

/* sysvSemSetValue(set: SysvSemHandle, num: number, value: number): void
   semctl(SETVAL): sets one value (0 .. SEMVMX; the kernel says ERANGE above) and clears that
   semaphore's undo entries in every process. Errors (syscall 'semctl'): ERANGE, EINVAL,
   EIDRM, EPERM. */
Napi::Value SysvSemSetValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int num = static_cast<int>(IntegerArg(info, 1, "num", 0, USHRT_MAX));
    int value = static_cast<int>(IntegerArg(info, 2, "value", 0, INT_MAX));
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    union semun arg = {};
    arg.val = value;
    if (semctl(set.id(), num, SETVAL, arg) == -1) throw SemError(env, errno, "semctl");
    return env.Undefined();
}

/* sysvSemInfo(set: SysvSemHandle, num: number): { value, pid, ncnt, zcnt }
   semctl GETVAL, GETPID (who did the last operation on it), GETNCNT (how many wait for it to
   grow) and GETZCNT (how many wait for zero). Not atomic as a whole. Errors (syscall
   'semctl'): EINVAL, EIDRM. */
Napi::Value SysvSemInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int num = static_cast<int>(IntegerArg(info, 1, "num", 0, USHRT_MAX));
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    Napi::Object result = Napi::Object::New(env);
    const std::pair<const char*, int> commands[] = {
        {"value", GETVAL}, {"pid", GETPID}, {"ncnt", GETNCNT}, {"zcnt", GETZCNT}};
    for (const auto& [key, command] : commands) {
        int value = semctl(set.id(), num, command);
        if (value == -1) throw SemError(env, errno, "semctl");
        result.Set(key, value);
    }
    return result;
}

/* sysvSemRemove(set: SysvSemHandle): void
   semctl(IPC_RMID): removes the set at once; every process blocked on it wakes with EIDRM.
   The handle stays open (and useless) until sysvSemClose. Errors (syscall 'semctl'): EINVAL,
   EIDRM (already gone), EPERM. */
Napi::Value SysvSemRemove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    if (semctl(set.id(), 0, IPC_RMID) == -1) throw SemError(env, errno, "semctl");
    return env.Undefined();
}

/* sysvSemClose(set: SysvSemHandle): void
   Closes the handle and its waiters (threads joined). Removes nothing. Idempotent. */
Napi::Value SysvSemClose(const Napi::CallbackInfo& info) {
    UnwrapHandle<SysvSem>(info, 0, "set", /*allow_closed=*/true).Close();
    return info.Env().Undefined();
}

/* sysvSemId(set: SysvSemHandle): number
   The set identifier, or -1 once the handle is closed. Never a system call. */
Napi::Value SysvSemId(const Napi::CallbackInfo& info) {
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set", /*allow_closed=*/true);
    return Napi::Number::New(info.Env(), set.closed() ? -1 : set.id());
}

/* sysvSemWaiter(set: SysvSemHandle, ops: Array<{ num, op, undo?, nowait? }>,
                 rollback: Array<{ num, op, undo? }>,
                 callback: (error: SystemError | null) => void): WaiterHandle
   A lock waiter (lock_waiter.h) whose thread performs semop(ops) blocking (the operations,
   atomically, as soon as they can all be done), starting now. A release (lockWaiterRelease,
   or closing while held, or a cancel that lost the race) applies `rollback` with IPC_NOWAIT:
   the caller's inverse of ops (may be empty). The waiter keeps the set's handle alive; closing
   that handle closes the waiter first. A removed set reports EIDRM. Errors: EAGAIN (syscall
   'pthread_create'), EBUSY (syscall 'sigaction'). */
Napi::Value SysvSemWaiter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<struct sembuf> ops = OpsArg(info, 1, "ops", /*allow_empty=*/false);
    std::vector<struct sembuf> rollback = OpsArg(info, 2, "rollback", /*allow_empty=*/true);
    Napi::Function callback = FunctionArg(info, 3, "callback");
    SysvSem& set = UnwrapHandle<SysvSem>(info, 0, "set");
    InstallInterruptSignal(env);
    auto* waiter = new SemopWaiter(env, set, info[0], std::move(ops), std::move(rollback));
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

}  // namespace

void ExportSysvSem(Napi::Env env, Napi::Object exports) {
    SetFunction<SysvSemGet>(env, exports, "sysvSemGet");
    SetFunction<SysvSemOpenId>(env, exports, "sysvSemOpenId");
    SetFunction<SysvSemId>(env, exports, "sysvSemId");
    SetFunction<SysvSemStat>(env, exports, "sysvSemStat");
    SetFunction<SysvSemOp>(env, exports, "sysvSemOp");
    SetFunction<SysvSemGetValue>(env, exports, "sysvSemGetValue");
    SetFunction<SysvSemGetAll>(env, exports, "sysvSemGetAll");
    SetFunction<SysvSemSetValue>(env, exports, "sysvSemSetValue");
    SetFunction<SysvSemInfo>(env, exports, "sysvSemInfo");
    SetFunction<SysvSemRemove>(env, exports, "sysvSemRemove");
    SetFunction<SysvSemClose>(env, exports, "sysvSemClose");
    SetFunction<SysvSemWaiter>(env, exports, "sysvSemWaiter");
}

}  // namespace rxipc
