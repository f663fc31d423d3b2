// Argument checking at the JS boundary. Every helper throws (as a C++ Napi::Error that
// node-addon-api turns into a JS exception) a TypeError ERR_INVALID_ARG_TYPE for a wrong type
// and a RangeError ERR_OUT_OF_RANGE for a number out of range, so that no JS value reaches a
// system call unchecked.
//
// Helpers that read object properties (options) can run user code: getters and Proxy traps.
// Callers therefore read every option before they unwrap a handle, so that code cannot close
// or replace the handle between the check and the system call.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace rxipc {

// The largest integer a double holds exactly (Number.MAX_SAFE_INTEGER).
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// An integer-valued number in [min, max]. -0 counts as 0; NaN, ±Infinity and fractions are
// RangeErrors.
int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min,
                   int64_t max);

// A descriptor number: an integer in [0, INT_MAX].
int FdArg(const Napi::CallbackInfo& info, size_t index, const char* name = "fd");

// A string, converted to UTF-8.
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A string, or undefined (nullopt).
std::optional<std::string> OptionalStringArg(const Napi::CallbackInfo& info, size_t index,
                                             const char* name);

// A function.
Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// An options object, or undefined (nullopt). null, arrays and primitives are TypeErrors.
std::optional<Napi::Object> OptionsArg(const Napi::CallbackInfo& info, size_t index,
                                       const char* name);

// A required plain object (like OptionsArg, but undefined is a TypeError too).
Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// options[key] as a boolean; undefined (or no options) gives `fallback`. `name` is how the
// property is named in errors ("options.cloexec").
bool BoolOption(const std::optional<Napi::Object>& options, const char* key, const char* name,
                bool fallback);

// options[key] as a boolean, or nullopt when undefined.
std::optional<bool> OptionalBoolOption(const std::optional<Napi::Object>& options, const char* key,
                                       const char* name);

// options[key] as an integer in [min, max] (checked as IntegerArg checks), or nullopt when
// undefined (or there are no options).
std::optional<int64_t> OptionalIntegerOption(const std::optional<Napi::Object>& options,
                                             const char* key, const char* name, int64_t min,
                                             int64_t max);

// options[key] as an integer in [min, max]; undefined (or no options) gives `fallback`.
int64_t IntegerOption(const std::optional<Napi::Object>& options, const char* key, const char* name,
                      int64_t min, int64_t max, int64_t fallback);

// The memory behind an ArrayBufferView (any TypedArray, Buffer or DataView). A view over a
// detached ArrayBuffer is a TypeError: its memory is gone. Reading the view runs no user code.
struct Bytes {
    void* data;
    size_t length;
};
Bytes ViewBytes(Napi::Env env, Napi::Value value, const char* name);

// ViewBytes for hot paths: a typed array costs one Node-API call (its type, length and data
// together; `type`, when given, receives the kind, napi_uint8_array for a DataView) and skips
// the detached check, which a typed array does not need: over a detached buffer its length is
// 0. Anything else (a DataView, a wrong type) goes through ViewBytes.
Bytes ViewBytesFast(Napi::Env env, Napi::Value value, const char* name,
                    napi_typedarray_type* type = nullptr);

// The typed array whose elements are T: Uint32Array for uint32_t, Float64Array for double.
template <typename T>
struct TypedArrayOf;
template <>
struct TypedArrayOf<uint32_t> {
    static constexpr napi_typedarray_type kType = napi_uint32_array;
    static constexpr const char* kName = "Uint32Array";
};
template <>
struct TypedArrayOf<double> {
    static constexpr napi_typedarray_type kType = napi_float64_array;
    static constexpr const char* kName = "Float64Array";
};

// An optional out-parameter: undefined gives nullptr; otherwise a TypedArrayOf<T> with at
// least one element (TypeError, or RangeError "<name>.length"), whose first element the
// caller writes a result to. Reading it runs no user code.
template <typename T>
T* OutArg(Napi::Env env, Napi::Value value, const char* name);

}  // namespace rxipc
