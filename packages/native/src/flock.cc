// File locks on a descriptor: flock(2) (whole file, shared or exclusive) and open file
// description record locks (fcntl(2) F_OFD_SETLK/F_OFD_SETLKW/F_OFD_GETLK, byte ranges).
//
// Both belong to the open file description, not to the process: fcntl(2), "Open file
// description locks": "they are associated with an open file description rather than a
// process ... and are only automatically released on the last close of the open file
// description". So two descriptions of one file (two open() calls, even in one process)
// exclude each other, the kernel drops the locks of a process that dies, and the adapters
// open one description per acquisition. They interoperate with flock(1) and with other
// programs' flock/OFD locks (flock and fcntl locks do not see each other on Linux).
//
// The event loop only uses the non-blocking forms (LOCK_NB, F_OFD_SETLK). Blocking ones
// happen in a lock waiter's thread, interrupted by a signal installed without SA_RESTART
// (signal(7): flock and F_OFD_SETLKW are restarted only with SA_RESTART).
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "export.h"
#include "fd.h"
#include "lock_waiter.h"

namespace rxipc {
namespace {

// A lock waiter on a descriptor (flock or OFD lock). It keeps the descriptor's handle alive,
// and closing the descriptor closes the waiter first (Fd::Attach), so target_ stays open for as
// long as the thread can use it.
class FdLockWaiter : public SignalLockWaiter {
  protected:
    FdLockWaiter(Napi::Env env, Fd& fd, Napi::Value fd_object)
        : SignalLockWaiter(env),
          target_(fd.fd()),
          fd_(&fd),
          fd_ref_(Napi::Reference<Napi::Value>::New(fd_object, 1)) {
        fd.Attach(this);
    }

    void DetachTarget() final {
        if (fd_ == nullptr) return;
        fd_->Detach(this);
        fd_ = nullptr;
        fd_ref_.Reset();
    }

    const int target_;  // the Fd cannot close it before closing (and joining) us

  private:
    Fd* fd_;
    Napi::Reference<Napi::Value> fd_ref_;
};

// ---- flock ----------------------------------------------------------------------------------

int FlockOperation(const Napi::CallbackInfo& info, size_t index, bool allow_unlock) {
    if (allow_unlock) {
        int choice = ChoiceArg(info, index, "mode", {"shared", "exclusive", "unlock"});
        return choice == 0 ? LOCK_SH : choice == 1 ? LOCK_EX : LOCK_UN;
    }
    return ChoiceArg(info, index, "mode", {"shared", "exclusive"}) == 0 ? LOCK_SH : LOCK_EX;
}

// One blocking flock at a time in the waiter's thread; a release is LOCK_UN.
class FlockWaiter final : public FdLockWaiter {
  public:
    FlockWaiter(Napi::Env env, Fd& fd, Napi::Value fd_object, int operation)
        : FdLockWaiter(env, fd, fd_object), operation_(operation) {}

  protected:
    int Acquire(const char** syscall) override {
        return AcquireInterruptibly("flock", syscall,
                                    [this] { return flock(target_, operation_); });
    }

    int ReleaseAcquired(bool /*mark_consistent*/, const char** syscall) override {
        if (flock(target_, LOCK_UN) == 0) return 0;
        *syscall = "flock";
        return errno;
    }

  private:
    const int operation_;
};

/* flock(fd: FdHandle, mode: 'shared' | 'exclusive' | 'unlock'): boolean
   flock(2) with LOCK_NB: true when the lock was placed (or converted, or removed), false when
   another description holds a conflicting one (EWOULDBLOCK). EINTR is retried. Errors
   (syscall 'flock'): EBADF, EINVAL, ENOLCK. */
Napi::Value Flock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int operation = FlockOperation(info, 1, /*allow_unlock=*/true);
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    int result;
    do {
        result = flock(fd.fd(), operation | LOCK_NB);
    } while (result == -1 && errno == EINTR);
    if (result == 0) return Napi::Boolean::New(env, true);
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "flock");
}

/* flockWaiter(fd: FdHandle, mode: 'shared' | 'exclusive',
               callback: (error: SystemError | null) => void): WaiterHandle
   A lock waiter (lock_waiter.h) whose thread calls flock(2) blocking, starting now; a release
   is LOCK_UN. The waiter keeps the descriptor's handle alive; closing the descriptor closes
   the waiter first (and the kernel drops the lock with the last descriptor of the
   description). Errors: EAGAIN (syscall 'pthread_create'), EBUSY (syscall 'sigaction'). */
Napi::Value FlockWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int operation = FlockOperation(info, 1, /*allow_unlock=*/false);
    Napi::Function callback = FunctionArg(info, 2, "callback");
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    InstallInterruptSignal(env);
    auto* waiter = new FlockWaiter(env, fd, info[0], operation);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

// ---- open file description record locks ----------------------------------------------------

// lock: { type: 'read' | 'write' | 'unlock', start?: number, length?: number }, from the start
// of the file (SEEK_SET). fcntl(2): "Specifying 0 for l_len has the special meaning: lock all
// bytes starting at the location specified by l_whence and l_start through to the end of
// file, no matter how large the file grows."
struct flock RangeArg(const Napi::CallbackInfo& info, size_t index, bool allow_unlock) {
    Napi::Env env = info.Env();
    Napi::Object object = ObjectArg(info, index, "lock");
    std::optional<Napi::Object> options = object;
    Napi::Value type_value = object.Get("type");
    short type = F_RDLCK;
    if (type_value.IsString() && type_value.As<Napi::String>().Utf8Value() == "read") {
        type = F_RDLCK;
    } else if (type_value.IsString() && type_value.As<Napi::String>().Utf8Value() == "write") {
        type = F_WRLCK;
    } else if (allow_unlock && type_value.IsString() &&
               type_value.As<Napi::String>().Utf8Value() == "unlock") {
        type = F_UNLCK;
    } else {
        throw InvalidArgValue(env, allow_unlock ? "lock.type must be 'read', 'write' or 'unlock'"
                                                : "lock.type must be 'read' or 'write'");
    }
    int64_t start =
        OptionalIntegerOption(options, "start", "lock.start", 0, kMaxSafeInteger).value_or(0);
    int64_t length =
        OptionalIntegerOption(options, "length", "lock.length", 0, kMaxSafeInteger).value_or(0);
    struct flock lock = {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(start);
    lock.l_len = static_cast<off_t>(length);
    lock.l_pid = 0;  // fcntl(2): "l_pid must be set to zero" for OFD locks
    return lock;
}

const char* OfdHint(int err) {
    switch (err) {
        case EBADF:
            return "a write lock needs a descriptor open for writing, a read lock one open for "
                   "reading";
        case ENOLCK:
            return "the kernel's lock table is full";
        default:
            return nullptr;
    }
}

// One blocking F_OFD_SETLKW at a time in the waiter's thread; a release unlocks the range.
class OfdLockWaiter final : public FdLockWaiter {
  public:
    OfdLockWaiter(Napi::Env env, Fd& fd, Napi::Value fd_object, struct flock lock)
        : FdLockWaiter(env, fd, fd_object), lock_(lock) {}

  protected:
    int Acquire(const char** syscall) override {
        return AcquireInterruptibly("fcntl", syscall, [this] {
            struct flock lock = lock_;
            return fcntl(target_, F_OFD_SETLKW, &lock);
        });
    }

    int ReleaseAcquired(bool /*mark_consistent*/, const char** syscall) override {
        struct flock unlock = lock_;
        unlock.l_type = F_UNLCK;
        if (fcntl(target_, F_OFD_SETLK, &unlock) == 0) return 0;
        *syscall = "fcntl";
        return errno;
    }

  private:
    const struct flock lock_;
};

/* ofdLock(fd: FdHandle, lock: { type: 'read' | 'write' | 'unlock'; start?: number;
           length?: number }): boolean
   fcntl(2) F_OFD_SETLK on bytes [start, start + length) from the start of the file (length 0:
   to the end, however far it grows): true when placed (or changed, or removed), false when a
   conflicting lock is held through another description (EAGAIN/EACCES). EINTR is retried.
   Errors (syscall 'fcntl'): EBADF (a write lock on a read-only descriptor, or the reverse),
   EINVAL (not a lockable file), ENOLCK. */
Napi::Value OfdLock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct flock lock = RangeArg(info, 1, /*allow_unlock=*/true);
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    int result;
    do {
        result = fcntl(fd.fd(), F_OFD_SETLK, &lock);
    } while (result == -1 && errno == EINTR);
    if (result == 0) return Napi::Boolean::New(env, true);
    if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
    int err = errno;
    throw ErrnoError(env, err, "fcntl", nullptr, OfdHint(err));
}

/* ofdGetLock(fd: FdHandle, lock: { type: 'read' | 'write'; start?: number; length?: number }):
   null | { type: 'read' | 'write'; start: number; length: number; pid: number }
   fcntl(2) F_OFD_GETLK: null when `lock` could be placed, else one lock that conflicts (pid
   -1 for an OFD lock; a traditional fcntl lock names its process). Errors (syscall 'fcntl'):
   EBADF, EINVAL. */
Napi::Value OfdGetLock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct flock lock = RangeArg(info, 1, /*allow_unlock=*/false);
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    if (fcntl(fd.fd(), F_OFD_GETLK, &lock) == -1) {
        int err = errno;
        throw ErrnoError(env, err, "fcntl", nullptr, OfdHint(err));
    }
    if (lock.l_type == F_UNLCK) return env.Null();
    Napi::Object result = Napi::Object::New(env);
    result.Set("type", lock.l_type == F_WRLCK ? "write" : "read");
    result.Set("start", static_cast<double>(lock.l_start));
    result.Set("length", static_cast<double>(lock.l_len));
    result.Set("pid", static_cast<double>(lock.l_pid));
    return result;
}

/* ofdLockWaiter(fd: FdHandle, lock: { type: 'read' | 'write'; start?: number;
                 length?: number }, callback: (error: SystemError | null) => void): WaiterHandle
   A lock waiter (lock_waiter.h) whose thread calls fcntl(F_OFD_SETLKW) on the range, starting
   now; a release unlocks the same range (F_OFD_SETLK, F_UNLCK). The waiter keeps the
   descriptor's handle alive; closing the descriptor closes the waiter first. Errors: EAGAIN
   (syscall 'pthread_create'), EBUSY (syscall 'sigaction'). */
Napi::Value OfdLockWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct flock lock = RangeArg(info, 1, /*allow_unlock=*/false);
    Napi::Function callback = FunctionArg(info, 2, "callback");
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    InstallInterruptSignal(env);
    auto* waiter = new OfdLockWaiter(env, fd, info[0], lock);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

}  // namespace

void ExportFlock(Napi::Env env, Napi::Object exports) {
    SetFunction<Flock>(env, exports, "flock");
    SetFunction<FlockWaiterJs>(env, exports, "flockWaiter");
    SetFunction<OfdLock>(env, exports, "ofdLock");
    SetFunction<OfdGetLock>(env, exports, "ofdGetLock");
    SetFunction<OfdLockWaiterJs>(env, exports, "ofdLockWaiter");
}

}  // namespace rxipc
