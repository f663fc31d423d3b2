// The arguments of the batch sends (see batch_args.h).
#include "batch_args.h"

#include <algorithm>
#include <string>

#include "errors.h"

namespace rxipc {
namespace {

std::string ElementName(const char* name, size_t i) {
    return std::string(name) + "[" + std::to_string(i) + "]";
}

// A Uint32Array holds integers only, so the bounds are all there is to say.
void CheckElement(Napi::Env env, const char* name, size_t i, uint32_t value, int64_t min,
                  int64_t max) {
    if (value < min || value > max) {
        throw ArgRangeError(env, ElementName(name, i).c_str(),
                            ">= " + std::to_string(min) + " and <= " + std::to_string(max),
                            std::to_string(value));
    }
}

void CheckElement(Napi::Env env, const char* name, size_t i, double value, int64_t min,
                  int64_t max) {
    // NaN fails both comparisons; a fraction fails the round trip.
    if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) ||
        static_cast<double>(static_cast<int64_t>(value)) != value) {
        throw ArgRangeError(
            env, ElementName(name, i).c_str(),
            "an integer >= " + std::to_string(min) + " and <= " + std::to_string(max),
            Napi::Number::New(env, value).ToString().Utf8Value());
    }
}

}  // namespace

template <typename T>
SendBatch<T> SendBatchArgs(const Napi::CallbackInfo& info, const char* name, int64_t min,
                           int64_t max, size_t max_length) {
    Napi::Env env = info.Env();
    Napi::Value value = info[1];
    if (!value.IsArray()) {
        throw ArgTypeError(env, "messages", "an array of ArrayBufferView", value);
    }
    Napi::Array array = value.As<Napi::Array>();
    int64_t length = array.Length();
    int64_t start = IntegerArg(info, 2, "start", 0, length);
    int64_t end = IntegerArg(info, 3, "end", start, std::min(length, start + kMaxSendMany));
    size_t count = static_cast<size_t>(end - start);

    // Elements first: reading one may run a getter, which could detach a view already looked at.
    std::vector<Napi::Value> values;
    values.reserve(count);
    for (int64_t i = start; i < end; i++) values.push_back(array.Get(static_cast<uint32_t>(i)));

    SendBatch<T> batch;
    Napi::Value numbers = info[4];
    if (numbers.IsNumber()) {
        batch.numbers.single = IntegerArg(info, 4, name, min, max);
    } else {
        napi_typedarray_type type;
        Bytes bytes = ViewBytesFast(env, numbers, name, &type);
        if (type != TypedArrayOf<T>::kType) {
            std::string expected = std::string("a number or a ") + TypedArrayOf<T>::kName;
            throw ArgTypeError(env, name, expected.c_str(), numbers);
        }
        if (bytes.length < count * sizeof(T)) {
            throw ArgRangeError(env, (std::string(name) + ".length").c_str(), ">= end - start",
                                std::to_string(bytes.length / sizeof(T)));
        }
        batch.numbers.each = static_cast<const T*>(bytes.data);
        for (size_t i = 0; i < count; i++)
            CheckElement(env, name, i, batch.numbers.each[i], min, max);
    }

    // Then the pointers; no user code runs after this.
    batch.messages.reserve(count);
    for (size_t i = 0; i < count; i++) {
        Bytes message = ViewBytesFast(env, values[i], "messages[i]");
        if (message.length > max_length) {
            throw ArgRangeError(env, "messages[i].byteLength", "<= " + std::to_string(max_length),
                                std::to_string(message.length));
        }
        batch.longest = std::max(batch.longest, message.length);
        batch.messages.push_back(message);
    }
    return batch;
}

template SendBatch<uint32_t> SendBatchArgs<uint32_t>(const Napi::CallbackInfo&, const char*,
                                                     int64_t, int64_t, size_t);
template SendBatch<double> SendBatchArgs<double>(const Napi::CallbackInfo&, const char*, int64_t,
                                                 int64_t, size_t);

}  // namespace rxipc
