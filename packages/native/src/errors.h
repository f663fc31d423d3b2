// The one place that builds the errors the addon throws: system errors shaped like Node's own
// (`code`, `errno`, `syscall`, `path`) and the TypeError/RangeError of argument checking.
#pragma once

#include <napi.h>

#include <string>

namespace rxipc {

// Symbolic name of an errno value ("EAGAIN"), or "UNKNOWN". Accepts either sign, because Node
// reports errno negated.
const char* ErrnoName(int err);

// A system error in Node's shape:
//   message  "ENOENT: no such file or directory, mq_open '/jobs' (hint)"
//   code     "ENOENT"
//   errno    -2 (negative, as Node's fs and net errors)
//   syscall  "mq_open"
//   path     "/jobs" (only when given)
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const char* path = nullptr,
                       const char* hint = nullptr);

// TypeError, code ERR_INVALID_ARG_TYPE: `The "fd" argument must be of type number. Received ...`
Napi::TypeError ArgTypeError(Napi::Env env, const char* name, const char* expected,
                             Napi::Value received);

// RangeError, code ERR_OUT_OF_RANGE: `The value of "fd" is out of range. It must be ...`
Napi::RangeError ArgRangeError(Napi::Env env, const char* name, const std::string& must,
                               const std::string& received);

// TypeError, code ERR_RXIPC_BAD_HANDLE: a closed handle, a handle of another kind, or an object
// that is no rxipc handle at all.
Napi::TypeError BadHandleError(Napi::Env env, const char* name, const char* expected,
                               const std::string& received);

// Adds `code` to an error object (the helpers above use it; exposed for the rare one-off).
void SetCode(Napi::Error& error, const char* code);

}  // namespace rxipc
