// POSIX message queues (mq_overview(7)). On Linux "a message queue descriptor is actually a
// file descriptor" (mq_overview(7)), so a queue is an ordinary Fd handle: uv_poll watches it
// (POLLIN when a message is there, POLLOUT when there is room), close(2) is mq_close(3), and
// the descriptor table, finalizers and teardown of fd.cc apply unchanged. Queues are always
// opened O_NONBLOCK | O_CLOEXEC: a blocking mq_receive would block the event loop.
//
// Names are checked here before any system call, so no JS value can reach a queue whose name
// is not of the form "/somename" (this is also what keeps the export fuzzer away from real
// queues: none of its strings is a valid name).
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "batch_args.h"
#include "export.h"
#include "fd.h"

namespace rxipc {
namespace {

// mq_overview(7): "MQ_PRIO_MAX ... Linux ... 32768"; priorities are 0 .. MQ_PRIO_MAX - 1.
constexpr int64_t kMaxPriority = 32767;

Napi::TypeError InvalidName(Napi::Env env, const std::string& why) {
    Napi::TypeError error = Napi::TypeError::New(
        env, "The \"name\" argument must be a queue name of the form /somename: " + why);
    SetCode(error, "ERR_INVALID_ARG_VALUE");
    return error;
}

// mq_overview(7): "a null-terminated string of up to NAME_MAX (i.e., 255) characters
// consisting of an initial slash, followed by one or more characters, none of which are
// slashes". glibc strips the slash before the system call, so the limit applies to the rest.
std::string QueueNameArg(const Napi::CallbackInfo& info, size_t index) {
    Napi::Env env = info.Env();
    Napi::Value value = info[index];
    if (!value.IsString()) throw ArgTypeError(env, "name", "of type string", value);
    // The length first (no copy), so a huge string is refused before it is converted.
    size_t utf16_length = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf16(env, value, nullptr, 0, &utf16_length),
                         std::string());
    if (utf16_length > NAME_MAX + 1) throw InvalidName(env, "longer than 255 characters");
    std::string name = value.As<Napi::String>().Utf8Value();
    if (name.size() < 2 || name[0] != '/') {
        throw InvalidName(env, "it must start with / and have at least one more character");
    }
    if (name.size() > NAME_MAX + 1) throw InvalidName(env, "longer than 255 bytes");
    if (name.find('/', 1) != std::string::npos) throw InvalidName(env, "a second / is not allowed");
    if (name.find('\0') != std::string::npos) throw InvalidName(env, "a NUL character");
    return name;
}

/* mqOpen(name: string, options: { read?: boolean; write?: boolean; create?: boolean;
          exclusive?: boolean; mode?: number; maxmsg?: number; msgsize?: number }): FdHandle
   mq_open(3) with O_NONBLOCK | O_CLOEXEC, O_RDONLY/O_WRONLY/O_RDWR from read/write (at least
   one; TypeError otherwise), O_CREAT with create, O_EXCL with exclusive (only with create).
   mode (default 0600) and the attributes apply only when the call creates the queue;
   maxmsg and msgsize are given together or not at all (the system defaults,
   /proc/sys/fs/mqueue/msg_default and msgsize_default, apply then). The handle owns the
   descriptor; fdClose is mq_close. Errors (syscall 'mq_open', path name): ENOENT, EEXIST,
   EACCES, EINVAL (attributes above msg_max/msgsize_max), EMFILE (RLIMIT_NOFILE or
   RLIMIT_MSGQUEUE), ENFILE, ENOSPC (queues_max), ENAMETOOLONG, ENOMEM. */
Napi::Value MqOpen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = QueueNameArg(info, 0);
    Napi::Object options = ObjectArg(info, 1, "options");
    std::optional<Napi::Object> opts = options;
    bool read = BoolOption(opts, "read", "options.read", false);
    bool write = BoolOption(opts, "write", "options.write", false);
    bool create = BoolOption(opts, "create", "options.create", false);
    bool exclusive = BoolOption(opts, "exclusive", "options.exclusive", false);
    int64_t mode = OptionalIntegerOption(opts, "mode", "options.mode", 0, 0777).value_or(0600);
    std::optional<int64_t> maxmsg =
        OptionalIntegerOption(opts, "maxmsg", "options.maxmsg", 1, INT_MAX);
    std::optional<int64_t> msgsize =
        OptionalIntegerOption(opts, "msgsize", "options.msgsize", 1, INT_MAX);

    if (!read && !write) {
        Napi::TypeError error =
            Napi::TypeError::New(env, "mqOpen: options.read or options.write must be true");
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }
    if (maxmsg.has_value() != msgsize.has_value()) {
        Napi::TypeError error = Napi::TypeError::New(
            env, "mqOpen: options.maxmsg and options.msgsize are given together or not at all");
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }
    if (exclusive && !create) {
        Napi::TypeError error =
            Napi::TypeError::New(env, "mqOpen: options.exclusive needs options.create");
        SetCode(error, "ERR_INVALID_ARG_VALUE");
        throw error;
    }

    int flags = O_NONBLOCK | O_CLOEXEC | (read && write ? O_RDWR : read ? O_RDONLY : O_WRONLY);
    if (create) flags |= O_CREAT;
    if (exclusive) flags |= O_EXCL;

    struct mq_attr attr = {};
    struct mq_attr* attr_ptr = nullptr;
    if (maxmsg) {
        attr.mq_maxmsg = static_cast<long>(*maxmsg);
        attr.mq_msgsize = static_cast<long>(*msgsize);
        attr_ptr = &attr;
    }

    mqd_t queue;
    do {
        queue = mq_open(name.c_str(), flags, static_cast<mode_t>(mode), attr_ptr);
    } while (queue == static_cast<mqd_t>(-1) && errno == EINTR);
    if (queue == static_cast<mqd_t>(-1)) throw ErrnoError(env, errno, "mq_open", name.c_str());
    return NewFdHandle(env, static_cast<int>(queue));
}

/* mqUnlink(name: string): void
   mq_unlink(3): removes the name; the queue itself goes when the last descriptor closes.
   Errors (syscall 'mq_unlink', path name): ENOENT, EACCES, ENAMETOOLONG. */
Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = QueueNameArg(info, 0);
    if (mq_unlink(name.c_str()) == -1) throw ErrnoError(env, errno, "mq_unlink", name.c_str());
    return env.Undefined();
}

/* mqSend(queue: FdHandle, message: ArrayBufferView, priority: number): boolean
   mq_send(3) of the view's bytes with priority 0 .. 32767. Returns false when the queue is
   full (EAGAIN). EINTR is retried. Errors (syscall 'mq_send'): EMSGSIZE when the message is
   longer than the queue's mq_msgsize, EBADF (not a queue, or not open for writing). */
Napi::Value MqSend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes message = ViewBytesFast(env, info[1], "message");
    auto priority = static_cast<unsigned>(IntegerArg(info, 2, "priority", 0, kMaxPriority));
    Fd& queue = UnwrapHandle<Fd>(info, 0, "queue");

    int result;
    do {
        result =
            mq_send(queue.fd(), static_cast<const char*>(message.data), message.length, priority);
    } while (result == -1 && errno == EINTR);
    if (result == -1 && errno == EAGAIN) return Napi::Boolean::New(env, false);
    if (result == -1) throw ErrnoError(env, errno, "mq_send");
    return Napi::Boolean::New(env, true);
}

/* mqSendMany(queue: FdHandle, messages: readonly ArrayBufferView[], start: number,
               end: number, priorities: number | Uint32Array): number
   mq_send(3) of messages[start], messages[start + 1], ... before messages[end] (at most
   kMaxSendMany = 1024 per call; RangeError beyond), in order, stopping at the first that the
   queue refuses. priorities is one priority for all (0 .. 32767) or a Uint32Array whose
   element i - start is the priority of messages[i] (every one checked before anything is
   sent). Returns how many were sent: fewer than end - start when the queue filled up (EAGAIN),
   or when a later send failed (that message is then the first of the next call, which throws).
   EINTR is retried. Errors (syscall 'mq_send'), only when the first message fails: EMSGSIZE,
   EBADF. One call instead of one per message: the batch costs one crossing of the JS boundary.
   Nothing is retained; the views stay the caller's. */
Napi::Value MqSendMany(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // Every argument but the handle, pointers last (batch_args.h); then the handle.
    SendBatch<uint32_t> batch = SendBatchArgs<uint32_t>(info, "priorities", 0, kMaxPriority);
    const std::vector<Bytes>& messages = batch.messages;
    size_t count = messages.size();
    Fd& queue = UnwrapHandle<Fd>(info, 0, "queue");

    size_t sent = 0;
    for (; sent < count; sent++) {
        auto priority = static_cast<unsigned>(batch.numbers[sent]);
        int result;
        do {
            result = mq_send(queue.fd(), static_cast<const char*>(messages[sent].data),
                             messages[sent].length, priority);
        } while (result == -1 && errno == EINTR);
        if (result == 0) continue;
        if (errno == EAGAIN || sent > 0) break;  // full; or report what was sent, fail next time
        throw ErrnoError(env, errno, "mq_send");
    }
    return Napi::Number::New(env, static_cast<double>(sent));
}

/* mqReceive(queue: FdHandle, target: ArrayBufferView, priority?: Uint32Array,
             offset?: number): number | null
   mq_receive(3) of the oldest message of the highest priority into target, from byte offset
   (default 0; at most target's byte length), so that a caller filling one large buffer need
   not make a view per message. Returns its length, or null when the queue is empty (EAGAIN);
   writes its priority to priority[0] when given (a Uint32Array of length >= 1; undefined
   for none). EINTR is retried. Errors (syscall 'mq_receive'): EMSGSIZE when the room from
   offset on is smaller than the queue's mq_msgsize (even for a short message), EBADF (not a
   queue, or not open for reading). */
Napi::Value MqReceive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes target = ViewBytesFast(env, info[1], "target");
    if (!info[3].IsUndefined()) {
        auto offset = static_cast<size_t>(
            IntegerArg(info, 3, "offset", 0, static_cast<int64_t>(target.length)));
        target.data = static_cast<char*>(target.data) + offset;
        target.length -= offset;
    }
    uint32_t* priority_out = OutArg<uint32_t>(env, info[2], "priority");
    Fd& queue = UnwrapHandle<Fd>(info, 0, "queue");

    unsigned priority = 0;
    ssize_t n;
    do {
        n = mq_receive(queue.fd(), static_cast<char*>(target.data), target.length, &priority);
    } while (n == -1 && errno == EINTR);
    if (n == -1 && errno == EAGAIN) return env.Null();
    if (n == -1) throw ErrnoError(env, errno, "mq_receive");
    if (priority_out != nullptr) *priority_out = priority;
    return Napi::Number::New(env, static_cast<double>(n));
}

/* mqGetAttr(queue: FdHandle): { nonblock: boolean; maxmsg: number; msgsize: number;
                                 curmsgs: number }
   mq_getattr(3). Errors (syscall 'mq_getattr'): EBADF (not a queue). */
Napi::Value MqGetAttr(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Fd& queue = UnwrapHandle<Fd>(info, 0, "queue");
    struct mq_attr attr = {};
    if (mq_getattr(queue.fd(), &attr) == -1) throw ErrnoError(env, errno, "mq_getattr");
    Napi::Object result = Napi::Object::New(env);
    result.Set("nonblock", Napi::Boolean::New(env, (attr.mq_flags & O_NONBLOCK) != 0));
    result.Set("maxmsg", Napi::Number::New(env, static_cast<double>(attr.mq_maxmsg)));
    result.Set("msgsize", Napi::Number::New(env, static_cast<double>(attr.mq_msgsize)));
    result.Set("curmsgs", Napi::Number::New(env, static_cast<double>(attr.mq_curmsgs)));
    return result;
}

}  // namespace

void ExportPosixMq(Napi::Env env, Napi::Object exports) {
    SetFunction<MqOpen>(env, exports, "mqOpen");
    SetFunction<MqUnlink>(env, exports, "mqUnlink");
    SetFunction<MqSend>(env, exports, "mqSend");
    SetFunction<MqSendMany>(env, exports, "mqSendMany");
    SetFunction<MqReceive>(env, exports, "mqReceive");
    SetFunction<MqGetAttr>(env, exports, "mqGetAttr");
}

}  // namespace rxipc
