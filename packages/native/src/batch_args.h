// The arguments of the batch sends (mqSendMany, msgsndMany): `messages, start, end, numbers`,
// where numbers gives each message its priority or type, one for all or one per message.
//
// Reading the arguments runs user code (array element getters, Proxy traps), and a getter can
// detach a view already looked at. So SendBatchArgs reads every element first, checks the
// numbers, and only then takes the views' pointers, after which no user code runs. The caller
// unwraps its handle after SendBatchArgs (see args.h).
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "args.h"

namespace rxipc {

// The most messages one batch call sends; `end - start` beyond it is a RangeError on "end".
constexpr int64_t kMaxSendMany = 1024;

// A number for each message of a batch: `single` for all, or element i of `each`.
template <typename T>
struct PerMessage {
    int64_t single = 0;
    const T* each = nullptr;  // into the caller's typed array, valid while no user code runs

    int64_t operator[](size_t i) const {
        return each != nullptr ? static_cast<int64_t>(each[i]) : single;
    }
};

template <typename T>
struct SendBatch {
    std::vector<Bytes> messages;  // messages[start .. end)
    PerMessage<T> numbers;
    size_t longest = 0;  // the largest messages[i].length
};

// Checks info[1] to info[4] as `messages: readonly ArrayBufferView[], start: number,
// end: number, numbers: number | T-typed array` (T is uint32_t for a Uint32Array, double for a
// Float64Array):
// - messages is an array (TypeError "messages" otherwise); start is an integer in
//   [0, messages.length] and end one in [start, min(messages.length, start + kMaxSendMany)];
// - numbers is one integer in [min, max] for every message (checked as IntegerArg checks, named
//   `name`), or a typed array of T with at least end - start elements (RangeError
//   "<name>.length"), each an integer in [min, max] (RangeError "<name>[i]");
// - each of messages[start .. end) is an ArrayBufferView (TypeError "messages[i]") of at most
//   `max_length` bytes (RangeError "messages[i].byteLength").
template <typename T>
SendBatch<T> SendBatchArgs(const Napi::CallbackInfo& info, const char* name, int64_t min,
                           int64_t max, size_t max_length = SIZE_MAX);

}  // namespace rxipc
