// Process-level primitives: the parent-death signal (prctl(2) PR_SET_PDEATHSIG), so that a
// child process never outlives its parent, even when the parent is killed with SIGKILL and
// has no chance to clean up. And the CPU the calling thread runs on.
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

#include "args.h"
#include "export.h"

namespace rxipc {
namespace {

/* setParentDeathSignal(signal: number): number
   prctl(PR_SET_PDEATHSIG, signal) for the calling process (1 .. SIGRTMAX; 0 clears it), then
   getppid(2), which it returns. prctl(2): the signal is sent "when its parent dies", but a
   parent that died before the call sends nothing, so the caller compares the returned pid
   with the parent it expects: a different one (1, or a subreaper) means the parent is gone
   already. The setting is cleared by fork(2) and by exec of a set-user-ID binary, and on
   Linux "parent" means the thread that created this process. Errors: EINVAL (syscall
   'prctl'). */
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto signal = static_cast<int>(IntegerArg(info, 0, "signal", 0, SIGRTMAX));
    if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal)) == -1) {
        throw ErrnoError(env, errno, "prctl");
    }
    return Napi::Number::New(env, getppid());
}

/* getParentDeathSignal(): number
   prctl(PR_GET_PDEATHSIG): the signal this process receives when its parent dies, 0 for none.
   Errors: EINVAL (syscall 'prctl'). */
Napi::Value GetParentDeathSignal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int signal = 0;
    if (prctl(PR_GET_PDEATHSIG, &signal) == -1) throw ErrnoError(env, errno, "prctl");
    return Napi::Number::New(env, signal);
}

/* currentCpu(): number
   sched_getcpu(3): the CPU the calling thread is running on now, or -1 where the kernel cannot
   tell. Advisory: the thread may run elsewhere a moment later. A vDSO call, no system call on
   x86-64 and arm64, so cheap enough for a hot path's occasional decision. */
Napi::Value CurrentCpu(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), sched_getcpu());
}

}  // namespace

void ExportProcess(Napi::Env env, Napi::Object exports) {
    SetFunction<SetParentDeathSignal>(env, exports, "setParentDeathSignal");
    SetFunction<GetParentDeathSignal>(env, exports, "getParentDeathSignal");
    SetFunction<CurrentCpu>(env, exports, "currentCpu");
}

}  // namespace rxipc
