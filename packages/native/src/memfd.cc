// Anonymous shared memory with memfd_create(2): a segment with no name in any file system,
// shared by handing its descriptor to another process (inheritance, or SCM_RIGHTS over a Unix
// socket), and sealable.
//
// memfd_create(2): "the file descriptor returned ... behaves like a regular file, and so can
// be modified, truncated, memory-mapped, and so on", and with MFD_ALLOW_SEALING "the
// fcntl(2) F_ADD_SEALS and F_GET_SEALS operations can be used to seal the file". Sealing is
// what makes a segment safe to map from a peer we do not trust: with F_SEAL_SHRINK nobody can
// shrink it under our mapping, which would otherwise raise SIGBUS on the next access.
//
// The descriptor is an ordinary FdHandle, so anything that sends or inherits descriptors
// (pipeLink's spawn, the socket adapter's descriptor passing) takes it as it is.
#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "args.h"
#include "export.h"
#include "fd.h"

namespace rxipc {
namespace {

// memfd_create(2): "The name ... is limited to 249 bytes, excluding the terminating null
// byte."
constexpr size_t kMemfdNameMax = 249;

struct Seal {
    const char* key;
    const char* name;
    int bit;
};

constexpr Seal kSeals[] = {
    {"seal", "seals.seal", F_SEAL_SEAL},
    {"shrink", "seals.shrink", F_SEAL_SHRINK},
    {"grow", "seals.grow", F_SEAL_GROW},
    {"write", "seals.write", F_SEAL_WRITE},
#ifdef F_SEAL_FUTURE_WRITE
    {"futureWrite", "seals.futureWrite", F_SEAL_FUTURE_WRITE},
#endif
};

/* memfdCreate(name: string, options?: { allowSealing?: boolean; cloexec?: boolean }): FdHandle
   memfd_create(2) with MFD_ALLOW_SEALING and MFD_CLOEXEC unless the options say false. The
   name (at most 249 bytes, no NUL) only shows in /proc/<pid>/fd and /proc/<pid>/maps as
   "memfd:<name>". The file has size 0: shmTruncate sizes it. Errors (syscall 'memfd_create'):
   EMFILE, ENFILE, ENOMEM. */
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    std::optional<Napi::Object> options = OptionsArg(info, 1, "options");
    bool sealing = BoolOption(options, "allowSealing", "options.allowSealing", true);
    bool cloexec = BoolOption(options, "cloexec", "options.cloexec", true);
    if (name.size() > kMemfdNameMax || name.find('\0') != std::string::npos) {
        throw ArgRangeError(env, "name", "at most 249 bytes long, without NUL characters",
                            std::to_string(name.size()) + " bytes");
    }
    unsigned flags = (sealing ? MFD_ALLOW_SEALING : 0U) | (cloexec ? MFD_CLOEXEC : 0U);
    int fd = memfd_create(name.c_str(), flags);
    if (fd == -1) throw ErrnoError(env, errno, "memfd_create");
    return NewFdHandle(env, fd);
}

/* memfdAddSeals(fd: FdHandle, seals: { seal?; shrink?; grow?; write?; futureWrite? }): void
   fcntl(F_ADD_SEALS) with the seals whose property is true. Seals can only be added.
   Errors (syscall 'fcntl'): EPERM (F_SEAL_SEAL is set, or the file was made without
   allowSealing), EBUSY (write with a writable shared mapping still in place), EINVAL (no
   memfd). */
Napi::Value MemfdAddSeals(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object seals = ObjectArg(info, 1, "seals");
    int bits = 0;
    for (const Seal& seal : kSeals) {
        if (BoolOption(seals, seal.key, seal.name, false)) bits |= seal.bit;
    }
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    if (fcntl(fd.fd(), F_ADD_SEALS, bits) == -1) {
        int err = errno;
        const char* hint = nullptr;
        if (err == EPERM)
            hint =
                "the file is sealed against new seals (F_SEAL_SEAL), or was "
                "created without allowSealing";
        if (err == EBUSY)
            hint =
                "a writable shared mapping exists; unmap it before sealing "
                "against writes";
        if (err == EINVAL) hint = "the descriptor is no memfd";
        throw ErrnoError(env, err, "fcntl", nullptr, hint);
    }
    return env.Undefined();
}

/* memfdGetSeals(fd: FdHandle): { seal; shrink; grow; write; futureWrite }
   fcntl(F_GET_SEALS), as booleans. Errors (syscall 'fcntl'): EINVAL (the descriptor is no
   memfd or other sealable file). */
Napi::Value MemfdGetSeals(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& fd = UnwrapHandle<Fd>(info, 0, "fd");
    int bits = fcntl(fd.fd(), F_GET_SEALS);
    if (bits == -1) {
        int err = errno;
        throw ErrnoError(env, err, "fcntl", nullptr,
                         err == EINVAL ? "the descriptor is no memfd" : nullptr);
    }
    Napi::Object result = Napi::Object::New(env);
    for (const Seal& seal : kSeals) {
        result.Set(seal.key, Napi::Boolean::New(env, (bits & seal.bit) != 0));
    }
    if (!result.Has("futureWrite")) result.Set("futureWrite", Napi::Boolean::New(env, false));
    return result;
}

}  // namespace

void ExportMemfd(Napi::Env env, Napi::Object exports) {
    SetFunction<MemfdCreate>(env, exports, "memfdCreate");
    SetFunction<MemfdAddSeals>(env, exports, "memfdAddSeals");
    SetFunction<MemfdGetSeals>(env, exports, "memfdGetSeals");
}

}  // namespace rxipc
