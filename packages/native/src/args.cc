// Argument checking at the JS boundary (see args.h).
#include "args.h"

#include <climits>
#include <cmath>

#include "errors.h"

namespace rxipc {
namespace {

// How a number is shown in a RangeError. Number-to-string conversion of a primitive runs no
// user code, so ToString() is safe here.
std::string Show(Napi::Value value) { return value.ToString().Utf8Value(); }

std::string RangeText(int64_t min, int64_t max) {
    return "an integer >= " + std::to_string(min) + " and <= " + std::to_string(max);
}

bool IsPlainObject(Napi::Value value) { return value.Type() == napi_object && !value.IsArray(); }

// `value` (an argument or an option) as an integer in [min, max].
int64_t CheckedInteger(Napi::Env env, Napi::Value value, const char* name, int64_t min,
                       int64_t max) {
    if (!value.IsNumber()) throw ArgTypeError(env, name, "of type number", value);

    double number = value.As<Napi::Number>().DoubleValue();
    // The comparisons are made in double: every bound used here is a safe integer, so they are
    // exact, and NaN fails all of them.
    bool ok = std::isfinite(number) && std::trunc(number) == number &&
              number >= static_cast<double>(min) && number <= static_cast<double>(max);
    if (!ok) throw ArgRangeError(env, name, RangeText(min, max), Show(value));
    return static_cast<int64_t>(number);
}

}  // namespace

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min,
                   int64_t max) {
    return CheckedInteger(info.Env(), info[index], name, min, max);
}

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    return static_cast<int>(IntegerArg(info, index, name, 0, INT_MAX));
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    Napi::Value value = info[index];
    if (!value.IsString()) throw ArgTypeError(info.Env(), name, "of type string", value);
    return value.As<Napi::String>().Utf8Value();
}

std::optional<std::string> OptionalStringArg(const Napi::CallbackInfo& info, size_t index,
                                             const char* name) {
    if (info[index].IsUndefined()) return std::nullopt;
    return StringArg(info, index, name);
}

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    Napi::Value value = info[index];
    if (!value.IsFunction()) throw ArgTypeError(info.Env(), name, "of type function", value);
    return value.As<Napi::Function>();
}

std::optional<Napi::Object> OptionsArg(const Napi::CallbackInfo& info, size_t index,
                                       const char* name) {
    Napi::Value value = info[index];
    if (value.IsUndefined()) return std::nullopt;
    if (!IsPlainObject(value)) throw ArgTypeError(info.Env(), name, "of type object", value);
    return value.As<Napi::Object>();
}

Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    Napi::Value value = info[index];
    if (!IsPlainObject(value)) throw ArgTypeError(info.Env(), name, "of type object", value);
    return value.As<Napi::Object>();
}

std::optional<bool> OptionalBoolOption(const std::optional<Napi::Object>& options, const char* key,
                                       const char* name) {
    if (!options) return std::nullopt;
    // Get() may run a getter or a Proxy trap; what it throws propagates to the caller.
    Napi::Value value = options->Get(key);
    if (value.IsUndefined()) return std::nullopt;
    if (!value.IsBoolean()) throw ArgTypeError(options->Env(), name, "of type boolean", value);
    return value.As<Napi::Boolean>().Value();
}

bool BoolOption(const std::optional<Napi::Object>& options, const char* key, const char* name,
                bool fallback) {
    return OptionalBoolOption(options, key, name).value_or(fallback);
}

std::optional<int64_t> OptionalIntegerOption(const std::optional<Napi::Object>& options,
                                             const char* key, const char* name, int64_t min,
                                             int64_t max) {
    if (!options) return std::nullopt;
    Napi::Value value = options->Get(key);  // may run a getter (see args.h)
    if (value.IsUndefined()) return std::nullopt;
    return CheckedInteger(options->Env(), value, name, min, max);
}

int64_t IntegerOption(const std::optional<Napi::Object>& options, const char* key, const char* name,
                      int64_t min, int64_t max, int64_t fallback) {
    return OptionalIntegerOption(options, key, name, min, max).value_or(fallback);
}

Bytes ViewBytes(Napi::Env env, Napi::Value value, const char* name) {
    Bytes bytes{nullptr, 0};
    napi_value arraybuffer = nullptr;
    if (value.IsTypedArray()) {
        napi_typedarray_type type;
        size_t elements = 0;
        size_t offset = 0;
        NAPI_THROW_IF_FAILED(env,
                             napi_get_typedarray_info(env, value, &type, &elements, &bytes.data,
                                                      &arraybuffer, &offset),
                             bytes);
        bytes.length = elements * value.As<Napi::TypedArray>().ElementSize();
    } else if (value.IsDataView()) {
        size_t offset = 0;
        NAPI_THROW_IF_FAILED(
            env,
            napi_get_dataview_info(env, value, &bytes.length, &bytes.data, &arraybuffer, &offset),
            bytes);
    } else {
        throw ArgTypeError(env, name, "an ArrayBufferView (Buffer, TypedArray or DataView)", value);
    }

    // A SharedArrayBuffer is no ArrayBuffer and cannot be detached; only ask about the others.
    Napi::Value buffer(env, arraybuffer);
    if (buffer.IsArrayBuffer() && buffer.As<Napi::ArrayBuffer>().IsDetached()) {
        Napi::TypeError error = Napi::TypeError::New(
            env, std::string("The \"") + name + "\" argument is backed by a detached ArrayBuffer");
        SetCode(error, "ERR_INVALID_ARG_TYPE");
        throw error;
    }
    // Zero-length views may have no memory at all; give the kernel a valid pointer anyway.
    static char empty;
    if (bytes.data == nullptr) bytes = Bytes{&empty, 0};
    return bytes;
}

Bytes ViewBytesFast(Napi::Env env, Napi::Value value, const char* name,
                    napi_typedarray_type* type) {
    napi_typedarray_type kind;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, value, &kind, &length, &data, nullptr, nullptr) != napi_ok) {
        // Not a typed array (no exception is pending): the general path, which accepts a
        // DataView (reported as napi_uint8_array) and throws for the rest.
        if (type != nullptr) *type = napi_uint8_array;
        return ViewBytes(env, value, name);
    }
    if (type != nullptr) *type = kind;
    static char empty;
    size_t size = 1;
    switch (kind) {
        case napi_int16_array:
        case napi_uint16_array:
            size = 2;
            break;
        case napi_int32_array:
        case napi_uint32_array:
        case napi_float32_array:
            size = 4;
            break;
        case napi_float64_array:
        case napi_bigint64_array:
        case napi_biguint64_array:
            size = 8;
            break;
        default:
            break;
    }
    if (data == nullptr || length == 0) return Bytes{&empty, 0};
    return Bytes{data, length * size};
}

template <typename T>
T* OutArg(Napi::Env env, Napi::Value value, const char* name) {
    if (value.IsUndefined()) return nullptr;
    napi_typedarray_type type;
    Bytes bytes = ViewBytesFast(env, value, name, &type);
    if (type != TypedArrayOf<T>::kType) {
        throw ArgTypeError(env, name, (std::string("a ") + TypedArrayOf<T>::kName).c_str(), value);
    }
    if (bytes.length < sizeof(T)) {
        throw ArgRangeError(env, (std::string(name) + ".length").c_str(), ">= 1", "0");
    }
    return static_cast<T*>(bytes.data);
}

template uint32_t* OutArg<uint32_t>(Napi::Env, Napi::Value, const char*);
template double* OutArg<double>(Napi::Env, Napi::Value, const char*);

}  // namespace rxipc
