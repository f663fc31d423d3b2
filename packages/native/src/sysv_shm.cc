// System V shared memory (sysvipc(7), shmget(2), shmat(2), shmctl(2)).
//
// A segment is named by an integer id, valid for any process of the right user, so ids are
// kept inside handles: a handle comes only from sysvShmGet (by key) or sysvShmOpenId (an id
// checked with IPC_STAT), and attaching or removing takes a handle. The fuzz test calls every
// export with arbitrary numbers; it can look segments up, but it can never attach to or
// remove one it did not get a handle for.
//
// System V segments cannot shrink (shmget(2) fixes the size at creation), so a mapping of the
// whole segment can never raise SIGBUS.
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <climits>
#include <string>

#include "args.h"
#include "export.h"
#include "shm.h"

namespace rxipc {
namespace {

// A System V segment's id. Closing it forgets the id; the segment itself lives on until
// IPC_RMID and the last detach (sysvipc(7)).
class SysvShm final : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kSysvShm;
    SysvShm(Napi::Env env, int id) : Handle(env, kKind), id_(id) {}
    int id() const { return id_; }

  protected:
    int DoClose() override { return 0; }

  private:
    const int id_;
};

const char* GetHint(int err) {
    switch (err) {
        case ENOENT:
            return "no segment has this key; create it first (create: true)";
        case EEXIST:
            return "a segment with this key exists already; attach to it (exclusive: false) or "
                   "pick another key";
        case EINVAL:
            return "the size is below SHMMIN or above SHMMAX (/proc/sys/kernel/shmmax), or "
                   "larger than the existing segment's size";
        case ENOSPC:
            return "the system's limit on segments (/proc/sys/kernel/shmmni) or on shared memory "
                   "(/proc/sys/kernel/shmall) is reached; ipcs -m lists segments";
        case EACCES:
            return "the segment's permission bits do not allow this user";
        default:
            return nullptr;
    }
}

const char* IdHint(int err) {
    switch (err) {
        case EINVAL:
        case EIDRM:
            return "no segment has this id (any more): it was removed";
        case EACCES:
            return "the segment's permission bits do not allow this user";
        default:
            return nullptr;
    }
}

/* sysvShmGet(key: number, size: number, options?: { create?: boolean; exclusive?: boolean;
   mode?: number }): SysvShmHandle
   shmget(2). key is 0 .. 0xffffffff; 0 is IPC_PRIVATE, which always makes a new segment, so
   it requires create: true. size in bytes (0 .. 2^53-1; 0 only to look an existing segment
   up). With create, IPC_CREAT and `mode` (default 0600), plus IPC_EXCL with exclusive.
   Errors (syscall 'shmget', path = the key in hex): ENOENT, EEXIST, EINVAL, ENOSPC, EACCES,
   ENOMEM, each with a hint. */
Napi::Value SysvShmGet(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto key = static_cast<uint32_t>(IntegerArg(info, 0, "key", 0, UINT32_MAX));
    int64_t size = IntegerArg(info, 1, "size", 0, kMaxSafeInteger);
    std::optional<Napi::Object> options = OptionsArg(info, 2, "options");
    bool create = BoolOption(options, "create", "options.create", false);
    bool exclusive = BoolOption(options, "exclusive", "options.exclusive", false);
    auto mode = static_cast<int>(IntegerOption(options, "mode", "options.mode", 0, 0777, 0600));
    if (key == IPC_PRIVATE && !create) {
        throw ArgRangeError(env, "key",
                            "non-zero unless options.create is true (0 is IPC_PRIVATE, which "
                            "always creates a segment)",
                            "0");
    }

    int flags = create ? (IPC_CREAT | mode | (exclusive ? IPC_EXCL : 0)) : 0;
    int id = shmget(static_cast<key_t>(key), static_cast<size_t>(size), flags);
    if (id == -1) {
        int err = errno;
        char path[16];
        snprintf(path, sizeof path, "0x%08x", key);
        throw ErrnoError(env, err, "shmget", path, GetHint(err));
    }
    return WrapHandle(env, new SysvShm(env, id));
}

/* sysvShmOpenId(id: number): SysvShmHandle
   A handle for an existing segment id (from ipcs, or a peer), checked with IPC_STAT.
   Errors (syscall 'shmctl'): EINVAL or EIDRM (no such segment), EACCES. */
Napi::Value SysvShmOpenId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto id = static_cast<int>(IntegerArg(info, 0, "id", 0, INT_MAX));
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == -1) {
        int err = errno;
        throw ErrnoError(env, err, "shmctl", std::to_string(id).c_str(), IdHint(err));
    }
    return WrapHandle(env, new SysvShm(env, id));
}

/* sysvShmId(segment: SysvShmHandle): number
   The segment's id (what ipcs -m shows). Never a system call. */
Napi::Value SysvShmId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), UnwrapHandle<SysvShm>(info, 0, "segment").id());
}

/* sysvShmAttach(segment: SysvShmHandle): ShmMappingHandle
   shmat(2) of the whole segment (its size from IPC_STAT), read-write. There is no SHM_RDONLY
   on purpose: an ArrayBuffer cannot be made read-only, and a JS write to a read-only
   attachment would kill the process with SIGSEGV. shmUnmap detaches it (shmdt). Errors:
   EINVAL/EIDRM (removed), EACCES (no write permission), ENOMEM (syscall 'shmat' or
   'shmctl'). */
Napi::Value SysvShmAttach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvShm& segment = UnwrapHandle<SysvShm>(info, 0, "segment");

    std::string path = std::to_string(segment.id());
    struct shmid_ds ds;
    if (shmctl(segment.id(), IPC_STAT, &ds) == -1) {
        int err = errno;
        throw ErrnoError(env, err, "shmctl", path.c_str(), IdHint(err));
    }
    void* address = shmat(segment.id(), nullptr, 0);
    if (address == reinterpret_cast<void*>(-1)) {
        int err = errno;
        throw ErrnoError(env, err, "shmat", path.c_str(), IdHint(err));
    }
    return WrapHandle(env,
                      new ShmMapping(env, address, ds.shm_segsz, ShmMapping::Source::kSysv, true));
}

/* sysvShmRemove(segment: SysvShmHandle): void
   shmctl(IPC_RMID): marks the segment for removal. sysvipc(7): it is destroyed "after the
   last process has detached it"; until then attached processes keep using it, and no new
   process can attach by key (on Linux, by id still can). Errors (syscall 'shmctl'): EINVAL or
   EIDRM (removed already), EPERM (not the owner or creator). */
Napi::Value SysvShmRemove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvShm& segment = UnwrapHandle<SysvShm>(info, 0, "segment");
    if (shmctl(segment.id(), IPC_RMID, nullptr) == -1) {
        int err = errno;
        const char* hint =
            err == EPERM ? "only the segment's owner or creator may remove it" : IdHint(err);
        throw ErrnoError(env, err, "shmctl", std::to_string(segment.id()).c_str(), hint);
    }
    return env.Undefined();
}

/* sysvShmStat(segment: SysvShmHandle): { size; attachments; mode; key; creatorPid; lastPid;
   removed }
   shmctl(IPC_STAT): the size in bytes, the number of current attaches (shm_nattch), the
   permission bits, the key, the creator's pid, the pid of the last shmat/shmdt, and whether
   IPC_RMID was done (SHM_DEST). Errors (syscall 'shmctl'): EINVAL/EIDRM, EACCES. */
Napi::Value SysvShmStat(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SysvShm& segment = UnwrapHandle<SysvShm>(info, 0, "segment");
    struct shmid_ds ds;
    if (shmctl(segment.id(), IPC_STAT, &ds) == -1) {
        int err = errno;
        throw ErrnoError(env, err, "shmctl", std::to_string(segment.id()).c_str(), IdHint(err));
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("size", Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
    result.Set("attachments", Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
    result.Set("mode", Napi::Number::New(env, ds.shm_perm.mode & 0777));
    result.Set("key", Napi::Number::New(env, static_cast<uint32_t>(ds.shm_perm.__key)));
    result.Set("creatorPid", Napi::Number::New(env, ds.shm_cpid));
    result.Set("lastPid", Napi::Number::New(env, ds.shm_lpid));
    result.Set("removed", Napi::Boolean::New(env, (ds.shm_perm.mode & SHM_DEST) != 0));
    return result;
}

}  // namespace

void ExportSysvShm(Napi::Env env, Napi::Object exports) {
    SetFunction<SysvShmGet>(env, exports, "sysvShmGet");
    SetFunction<SysvShmOpenId>(env, exports, "sysvShmOpenId");
    SetFunction<SysvShmId>(env, exports, "sysvShmId");
    SetFunction<SysvShmAttach>(env, exports, "sysvShmAttach");
    SetFunction<SysvShmRemove>(env, exports, "sysvShmRemove");
    SetFunction<SysvShmStat>(env, exports, "sysvShmStat");
}

}  // namespace rxipc
