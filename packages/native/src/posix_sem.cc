// POSIX semaphores (sem_overview(7)): named ones (sem_open) and unnamed process-shared ones
// placed in a shared-memory mapping (sem_init with pshared 1). Posting, trying and reading the
// value happen on the event loop and never block; waiting happens in a lock waiter's thread,
// interrupted by a signal (sem_wait(3): "EINTR The call was interrupted by a signal handler";
// signal(7): never restarted, whatever SA_RESTART says).
//
// Names are checked here before any system call, so no JS value reaches a semaphore whose name
// is not of the form "/somename" (this also keeps the export fuzzer away from real ones: none
// of its strings is a valid name).
//
// sem_overview(7) on what a crash leaves: a semaphore has no owner and no undo. A count taken
// by a process that dies is gone until someone posts it (the adapters offer leases for that).
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>

#include <cerrno>
#include <string>

#include "args.h"
#include "export.h"
#include "lock_waiter.h"
#include "shm.h"

namespace rxipc {
namespace {

class PosixSem final : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kPosixSem;

    // A named semaphore from sem_open; closing calls sem_close.
    PosixSem(Napi::Env env, sem_t* sem, std::string name)
        : Handle(env, kKind), sem_(sem), name_(std::move(name)) {}

    // An unnamed semaphore inside `mapping`; keeps the mapping's JS object alive, and the
    // mapping closes this handle before it unmaps.
    PosixSem(Napi::Env env, sem_t* sem, ShmMapping& mapping, Napi::Value mapping_object)
        : Handle(env, kKind),
          sem_(sem),
          mapping_(&mapping),
          mapping_ref_(Napi::Reference<Napi::Value>::New(mapping_object, 1)) {
        mapping.Attach(this);
    }

    sem_t* sem() const { return sem_; }
    bool named() const { return mapping_ == nullptr; }
    // The name, or nullptr for an unnamed semaphore (for errors' `path`).
    const char* path() const { return named() ? name_.c_str() : nullptr; }
    Dependents& dependents() { return dependents_; }

  protected:
    int DoClose() override {
        // Waiters first: a thread blocked in sem_wait must be gone before the memory is.
        dependents_.CloseAll();
        int err = 0;
        if (mapping_ == nullptr) {
            if (sem_close(sem_) == -1) err = errno;
        } else {
            mapping_->Detach(this);
            mapping_ = nullptr;
            mapping_ref_.Reset();
        }
        sem_ = nullptr;
        return err;
    }

  private:
    sem_t* sem_;
    std::string name_;
    ShmMapping* mapping_ = nullptr;
    Napi::Reference<Napi::Value> mapping_ref_;
    Dependents dependents_;
};

// One sem_wait at a time in the waiter's thread; a release is one sem_post.
class SemWaiter final : public SignalLockWaiter {
  public:
    SemWaiter(Napi::Env env, PosixSem& sem, Napi::Value sem_object)
        : SignalLockWaiter(env),
          sem_(&sem),
          sem_ref_(Napi::Reference<Napi::Value>::New(sem_object, 1)),
          target_(sem.sem()) {
        sem.dependents().Attach(this);
    }

  protected:
    int Acquire(const char** syscall) override {
        return AcquireInterruptibly("sem_wait", syscall, [this] { return sem_wait(target_); });
    }

    int ReleaseAcquired(bool /*mark_consistent*/, const char** syscall) override {
        if (sem_post(target_) == 0) return 0;
        *syscall = "sem_post";
        return errno;
    }

    void DetachTarget() override {
        if (sem_ == nullptr) return;
        sem_->dependents().Detach(this);
        sem_ = nullptr;
        sem_ref_.Reset();
    }

  private:
    PosixSem* sem_;
    Napi::Reference<Napi::Value> sem_ref_;
    sem_t* const target_;  // valid until the semaphore handle closes, which closes us first
};

// SEM_VALUE_MAX is INT_MAX on Linux (glibc's <semaphore.h> via <bits/semaphore.h>).
constexpr int64_t kSemValueMax = SEM_VALUE_MAX;

// sem_overview(7): "a name of the form /somename; that is, a null-terminated string of up to
// NAME_MAX-4 (i.e., 251) characters consisting of an initial slash, followed by one or more
// characters, none of which are slashes."
std::string SemNameArg(const Napi::CallbackInfo& info, size_t index) {
    Napi::Env env = info.Env();
    Napi::Value value = info[index];
    if (!value.IsString()) throw ArgTypeError(env, "name", "of type string", value);
    auto invalid = [&](const char* why) {
        return InvalidArgValue(
            env, std::string("The \"name\" argument must be a semaphore name of the form "
                             "/somename: ") +
                     why);
    };
    // The length first (no copy), so a huge string is refused before it is converted.
    size_t utf16_length = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf16(env, value, nullptr, 0, &utf16_length),
                         std::string());
    if (utf16_length > NAME_MAX - 4 + 1) throw invalid("longer than 251 characters");
    std::string name = value.As<Napi::String>().Utf8Value();
    if (name.size() < 2 || name[0] != '/') {
        throw invalid("it must start with / and have at least one more character");
    }
    if (name.size() > NAME_MAX - 4 + 1) throw invalid("longer than 251 bytes");
    if (name.find('/', 1) != std::string::npos) throw invalid("a second / is not allowed");
    if (name.find('\0') != std::string::npos) throw invalid("a NUL character");
    return name;
}

const char* OpenHint(int err, bool create) {
    switch (err) {
        case ENOENT:
            return create ? nullptr : "no semaphore has this name; create it first";
        case EEXIST:
            return "a semaphore of this name exists; open it without exclusive, or unlink it";
        case EACCES:
            return "the semaphore exists with a mode that does not let this user open it";
        default:
            return nullptr;
    }
}

/* semOpen(name: string, options?: { create?: boolean; exclusive?: boolean; mode?: number;
           value?: number }): PosixSemHandle
   sem_open(3): O_CREAT with create, O_EXCL with exclusive (only with create; TypeError
   otherwise); mode (0 .. 0o777, default 0o600) and value (0 .. SEM_VALUE_MAX, default 0)
   apply only when the call creates it. The handle maps the semaphore until semClose.
   Errors (syscall 'sem_open', path name): ENOENT, EEXIST, EACCES, EMFILE, ENFILE,
   ENAMETOOLONG, ENOMEM. */
Napi::Value SemOpen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = SemNameArg(info, 0);
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool create = BoolOption(options, "create", "options.create", false);
    bool exclusive = BoolOption(options, "exclusive", "options.exclusive", false);
    int64_t mode = OptionalIntegerOption(options, "mode", "options.mode", 0, 0777).value_or(0600);
    int64_t value =
        OptionalIntegerOption(options, "value", "options.value", 0, kSemValueMax).value_or(0);
    if (exclusive && !create)
        throw InvalidArgValue(env, "semOpen: options.exclusive needs options.create");

    int flags = (create ? O_CREAT : 0) | (exclusive ? O_EXCL : 0);
    sem_t* sem =
        sem_open(name.c_str(), flags, static_cast<mode_t>(mode), static_cast<unsigned int>(value));
    if (sem == SEM_FAILED) {
        int err = errno;
        throw ErrnoError(env, err, "sem_open", name.c_str(), OpenHint(err, create));
    }
    return WrapHandle(env, new PosixSem(env, sem, name));
}

/* semUnlink(name: string): void
   sem_unlink(3): removes the name (/dev/shm/sem.NAME); the semaphore goes once every process
   has closed it. Errors (syscall 'sem_unlink', path name): ENOENT, EACCES, ENAMETOOLONG. */
Napi::Value SemUnlink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = SemNameArg(info, 0);
    if (sem_unlink(name.c_str()) == -1) throw ErrnoError(env, errno, "sem_unlink", name.c_str());
    return env.Undefined();
}

// The sem_t at `offset` in a writable mapping, for semInit and semAttach: EACCES (with
// `syscall`) for a read-only mapping, a RangeError for an offset outside it or misaligned.
sem_t* SemAt(Napi::Env env, ShmMapping& mapping, int64_t offset, const char* syscall) {
    if (!mapping.writable()) {
        throw ErrnoError(env, EACCES, syscall, nullptr, "the mapping is read-only");
    }
    return static_cast<sem_t*>(mapping.At(env, offset, sizeof(sem_t), alignof(sem_t), "offset"));
}

/* semInit(mapping: ShmMappingHandle, offset: number, value: number): PosixSemHandle
   sem_init(3) with pshared 1 on the sizeof(sem_t) (32) bytes at `offset` (a multiple of
   alignof(sem_t), inside the mapping; RangeError otherwise), with `value` (0 ..
   SEM_VALUE_MAX). sem_init(3): "Initializing a semaphore that has already been initialized
   results in undefined behavior": one process initializes, the others use semAttach. The
   handle keeps the mapping alive; closing the mapping closes it. */
Napi::Value SemInit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t offset = IntegerArg(info, 1, "offset", 0, kMaxSafeInteger);
    int64_t value = IntegerArg(info, 2, "value", 0, kSemValueMax);
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    sem_t* sem = SemAt(env, mapping, offset, "sem_init");
    if (sem_init(sem, /*pshared=*/1, static_cast<unsigned int>(value)) == -1) {
        throw ErrnoError(env, errno, "sem_init");
    }
    return WrapHandle(env, new PosixSem(env, sem, mapping, info[0]));
}

/* semAttach(mapping: ShmMappingHandle, offset: number): PosixSemHandle
   A handle on the unnamed semaphore another process initialized at `offset` (checked as for
   semInit). No system call: the memory is trusted to hold a semaphore. */
Napi::Value SemAttach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t offset = IntegerArg(info, 1, "offset", 0, kMaxSafeInteger);
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    sem_t* sem = SemAt(env, mapping, offset, "semAttach");
    return WrapHandle(env, new PosixSem(env, sem, mapping, info[0]));
}

/* semDestroy(sem: PosixSemHandle): void
   sem_destroy(3) on an unnamed semaphore, then closes the handle (its waiters first).
   sem_destroy(3): "Destroying a semaphore that other processes or threads are currently
   blocked on ... produces undefined behavior". EINVAL for a named semaphore (those are closed
   and unlinked). */
Napi::Value SemDestroy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem");
    if (sem.named()) {
        throw ErrnoError(env, EINVAL, "sem_destroy", sem.path(),
                         "a named semaphore is closed and unlinked, not destroyed");
    }
    sem.dependents().CloseAll();
    int result = sem_destroy(sem.sem());
    int err = errno;
    sem.Close();
    if (result == -1) throw ErrnoError(env, err, "sem_destroy");
    return env.Undefined();
}

/* semClose(sem: PosixSemHandle): void
   Closes the handle: its waiters (threads joined), then sem_close(3) for a named semaphore.
   Idempotent. Never removes anything. */
Napi::Value SemClose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem", /*allow_closed=*/true);
    int err = sem.Close();
    if (err != 0) throw ErrnoError(env, err, "sem_close");
    return env.Undefined();
}

/* semPost(sem: PosixSemHandle): void
   sem_post(3): adds one. Errors (syscall 'sem_post'): EOVERFLOW at SEM_VALUE_MAX. */
Napi::Value SemPost(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem");
    if (sem_post(sem.sem()) == -1) {
        int err = errno;
        std::string hint = "the value is already SEM_VALUE_MAX (" + std::to_string(kSemValueMax) +
                           "); someone posts more than they take";
        throw ErrnoError(env, err, "sem_post", sem.path(),
                         err == EOVERFLOW ? hint.c_str() : nullptr);
    }
    return env.Undefined();
}

/* semTryWait(sem: PosixSemHandle): boolean
   sem_trywait(3): takes one if the value is above zero (true), else false (EAGAIN). EINTR is
   retried. Never blocks. */
Napi::Value SemTryWait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem");
    int result;
    do {
        result = sem_trywait(sem.sem());
    } while (result == -1 && errno == EINTR);
    if (result == 0) return Napi::Boolean::New(env, true);
    if (errno == EAGAIN) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "sem_trywait", sem.path());
}

/* semGetValue(sem: PosixSemHandle): number
   sem_getvalue(3): the value now (Linux reports 0, never a negative count, while some wait). */
Napi::Value SemGetValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem");
    int value = 0;
    if (sem_getvalue(sem.sem(), &value) == -1)
        throw ErrnoError(env, errno, "sem_getvalue", sem.path());
    return Napi::Number::New(env, value);
}

/* semWaiter(sem: PosixSemHandle, callback: (error: SystemError | null) => void): WaiterHandle
   A lock waiter (lock_waiter.h) whose thread takes one with sem_wait(3), starting now. It
   reports through callback; lockWaiterState says what happened. Release is one sem_post.
   The waiter keeps the semaphore handle alive; closing that handle closes the waiter first.
   Errors: EAGAIN (syscall 'pthread_create'), EBUSY (syscall 'sigaction') when another handler
   owns the interrupting signal. */
Napi::Value SemWaiterJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function callback = FunctionArg(info, 1, "callback");
    PosixSem& sem = UnwrapHandle<PosixSem>(info, 0, "sem");
    InstallInterruptSignal(env);
    auto* waiter = new SemWaiter(env, sem, info[0]);
    Napi::Value handle = WrapHandle(env, waiter);
    waiter->Start(callback);
    return handle;
}

}  // namespace

void ExportPosixSem(Napi::Env env, Napi::Object exports) {
    SetFunction<SemOpen>(env, exports, "semOpen");
    SetFunction<SemUnlink>(env, exports, "semUnlink");
    SetFunction<SemInit>(env, exports, "semInit");
    SetFunction<SemAttach>(env, exports, "semAttach");
    SetFunction<SemDestroy>(env, exports, "semDestroy");
    SetFunction<SemClose>(env, exports, "semClose");
    SetFunction<SemPost>(env, exports, "semPost");
    SetFunction<SemTryWait>(env, exports, "semTryWait");
    SetFunction<SemGetValue>(env, exports, "semGetValue");
    SetFunction<SemWaiterJs>(env, exports, "semWaiter");
}

}  // namespace rxipc
