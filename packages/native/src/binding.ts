/**
 * The typed surface of the rxipc addon: every function the C++ layer exports, with its
 * contract. This is the only place where TypeScript learns what the addon provides.
 *
 * Conventions, for every function below:
 * - A failed system call throws a {@link SystemError} shaped like Node's own (`code`, `errno`,
 *   `syscall`, `path` where there is one), built in one place (`errors.cc`).
 * - A wrong argument type throws `TypeError`, an out-of-range number `RangeError`, and a
 *   closed or foreign handle `TypeError` with code `ERR_RXIPC_BAD_HANDLE`. No JavaScript value
 *   can crash or abort the process.
 * - "Would block" (`EAGAIN`) is an outcome, returned as `null`; `EINTR` is retried inside.
 * - Handles are opaque, type-tagged objects that own one kernel object each. Closing twice is
 *   a no-op; a finalizer and an environment cleanup hook close what a program forgot.
 */

declare const handleKind: unique symbol;

/** An opaque handle that owns one kernel object; `K` names its kind. */
export interface Handle<K extends string> {
  readonly [handleKind]: K;
}

/** Owns one file descriptor. Closing it closes the descriptor (and stops its watchers). */
export type FdHandle = Handle<'fd'>;
/** A `uv_poll` watcher on a descriptor owned by an {@link FdHandle}. */
export type FdWatcherHandle = Handle<'fd-watcher'>;
/** A native thread owned by the handle that waits on a kernel object and reports to JS. */
export type WaiterHandle = Handle<'waiter'>;
/**
 * A System V message queue identifier (msgget(2)). Closing the handle closes its waiters and
 * never removes the queue; {@link Binding.msgRmid} does.
 */
export type SysvMsgHandle = Handle<'sysv-msg'>;

/** {@link Binding.mqGetAttr}: a POSIX queue's attributes (`struct mq_attr`). */
export interface MqAttr {
  /** `O_NONBLOCK` on this descriptor (always `true` for queues rxipc opened). */
  readonly nonblock: boolean;
  /** The most messages the queue holds. */
  readonly maxmsg: number;
  /** The largest message, in bytes. */
  readonly msgsize: number;
  /** Messages in the queue now. */
  readonly curmsgs: number;
}

/** {@link Binding.msgStat}: `msgctl(IPC_STAT)` of a System V queue. */
export interface MsgStat {
  /** The key (unsigned 32-bit; `0` for `IPC_PRIVATE`). */
  readonly key: number;
  readonly id: number;
  /** Permission bits (`0o600`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** Messages in the queue (`msg_qnum`). */
  readonly messages: number;
  /** Bytes of text in the queue (`__msg_cbytes`). */
  readonly bytes: number;
  /** The most bytes of text the queue holds (`msg_qbytes`, from `msgmnb`). */
  readonly maxBytes: number;
  readonly lastSendPid: number;
  readonly lastReceivePid: number;
  /** Seconds since the epoch (0: never). */
  readonly sendTime: number;
  readonly receiveTime: number;
  readonly changeTime: number;
}

/** Options for {@link Binding.mqOpen}. */
export interface MqOpenOptions {
  /** Open for receiving (`O_RDONLY`, or `O_RDWR` with `write`). */
  readonly read?: boolean;
  /** Open for sending (`O_WRONLY`, or `O_RDWR` with `read`). */
  readonly write?: boolean;
  /** `O_CREAT`. */
  readonly create?: boolean;
  /** `O_EXCL` (only with `create`): fail with `EEXIST` rather than open an existing queue. */
  readonly exclusive?: boolean;
  /** Permission bits of a new queue. Default `0o600`. */
  readonly mode?: number;
  /** `mq_maxmsg` of a new queue; given together with `msgsize`, or neither (system defaults). */
  readonly maxmsg?: number;
  /** `mq_msgsize` of a new queue; given together with `maxmsg`. */
  readonly msgsize?: number;
}

/** A system error as Node shapes it (`fs`, `net`): `code`, `errno` (negative), `syscall`, `path`. */
export interface SystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

/** What `fstat(2)` says a descriptor is. */
export type FdType = 'fifo' | 'socket' | 'file' | 'character' | 'directory' | 'block' | 'unknown';

/** Readiness bits for {@link Binding.fdWatchStart}, as `uv_poll_event`. */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;

export interface Binding {
  /** The addon's interface version; bumped when this file changes incompatibly. */
  readonly version: number;

  /**
   * Symbolic name of an errno value (`11` → `'EAGAIN'`, `42` → `'ENOMSG'`, `43` → `'EIDRM'`).
   * Covers the IPC errnos Node's own table lacks. Unknown numbers give `'UNKNOWN'`.
   */
  errnoName(errno: number): string;

  /**
   * Builds the same error the addon throws, for TypeScript code that needs one:
   * `systemError(2, 'mq_open', '/jobs', 'create it first')`. The `hint`, when given, is
   * appended to the message in parentheses.
   */
  systemError(errno: number, syscall: string, path?: string, hint?: string): SystemError;

  // ---- descriptors --------------------------------------------------------------------

  /**
   * `pipe2(2)`: a new anonymous pipe as `[readEnd, writeEnd]`. Both ends get `O_CLOEXEC`
   * and `O_NONBLOCK` unless the options say `false`. Errors: `EMFILE`, `ENFILE`.
   */
  pipe(options?: { readonly cloexec?: boolean; readonly nonblock?: boolean }): [FdHandle, FdHandle];

  /**
   * Takes ownership of an existing descriptor (an inherited `fd:3`, or `0` for stdin).
   * `fcntl(F_GETFD)` checks that it is open first (`EBADF` otherwise). With
   * `restoreFlagsOnClose` (the default) the file status flags seen at adoption are put back
   * when the handle closes, so a shared description (a terminal, the shell's pipe) is left
   * as it was found. With `closeOnClose: false` the descriptor itself stays open on close
   * (for 0, 1, 2). A descriptor has one owner that closes it, or any number that do not:
   * adopting a number that an open handle of this process already owns throws `EBUSY`
   * (`syscall: 'fdAdopt'`) when either would close it, since the second close would hit
   * whatever the kernel reused the number for.
   */
  fdAdopt(
    fd: number,
    options?: { readonly closeOnClose?: boolean; readonly restoreFlagsOnClose?: boolean },
  ): FdHandle;

  /** The descriptor number, or `-1` once the handle is closed. */
  fdNumber(handle: FdHandle): number;

  /** `fstat(2)`: what kind of object the descriptor refers to. */
  fdType(handle: FdHandle): FdType;

  /** Sets or clears `O_NONBLOCK` (`F_SETFL`) and `FD_CLOEXEC` (`F_SETFD`). */
  fdSetFlags(
    handle: FdHandle,
    flags: { readonly nonblock?: boolean; readonly cloexec?: boolean },
  ): void;

  /** Reads the flags back: `{ nonblock, cloexec }`. */
  fdGetFlags(handle: FdHandle): { nonblock: boolean; cloexec: boolean };

  /**
   * `read(2)` into `target` (any `ArrayBufferView`), at most `target.byteLength` bytes.
   * Returns the byte count, `0` at end of stream, or `null` when nothing is available
   * (`EAGAIN`). Errors: `EBADF`, `EIO`, ...
   */
  fdRead(handle: FdHandle, target: ArrayBufferView): number | null;

  /**
   * `writev(2)` of the given views, in order (at most `IOV_MAX` = 1024 of them; more is a
   * `RangeError`). Returns the bytes written (possibly fewer than asked: a partial write),
   * or `null` when none fit (`EAGAIN`). Errors: `EPIPE` when no reader is left (the process
   * ignores `SIGPIPE`, as Node does), ...
   */
  fdWritev(handle: FdHandle, chunks: readonly ArrayBufferView[]): number | null;

  /** `fcntl(F_GETPIPE_SZ)`: a pipe's capacity in bytes. */
  fdPipeSize(handle: FdHandle): number;

  /**
   * Closes the descriptor (stopping and closing any watcher on it first, as libuv requires).
   * Idempotent.
   */
  fdClose(handle: FdHandle): void;

  // ---- waiting on descriptors in the event loop (uv_poll) -----------------------------

  /**
   * A `uv_poll` watcher on `handle`'s descriptor, created stopped. While started, the
   * callback runs on the event loop with `(status, events)`: `status` is `0` or a negative
   * libuv error number, `events` a mask of `POLL_READABLE | POLL_WRITABLE | POLL_DISCONNECT`.
   * Level-triggered: it fires on every loop turn while the condition holds. An exception
   * thrown by the callback becomes an uncaught exception, as for any Node callback.
   * The watcher keeps `handle` and `callback` alive until closed, and a started watcher keeps
   * itself alive. `uv_poll_init` makes the descriptor non-blocking. libuv allows one watcher
   * per descriptor and loop: `EEXIST` when another one (or one of Node's own streams) already
   * polls it; `EPERM` for a regular file or a directory, which epoll cannot wait on.
   */
  fdWatch(handle: FdHandle, callback: (status: number, events: number) => void): FdWatcherHandle;

  /**
   * Starts (or changes) the events watched: a mask of `POLL_READABLE | POLL_WRITABLE`
   * (`POLL_DISCONNECT` may be added; `0` stops). Any other value is a `RangeError`.
   */
  fdWatchStart(watcher: FdWatcherHandle, events: number): void;

  /** Stops watching; the watcher can be started again. Idempotent. */
  fdWatchStop(watcher: FdWatcherHandle): void;

  /** Stops and releases the watcher (`uv_close`). Idempotent. */
  fdWatchClose(watcher: FdWatcherHandle): void;

  // ---- owned waiter threads -------------------------------------------------------------

  /**
   * `eventfd(2)` with `EFD_CLOEXEC | EFD_NONBLOCK` (and `EFD_SEMAPHORE` when asked).
   */
  eventfd(initial: number, options?: { readonly semaphore?: boolean }): FdHandle;

  /** Adds `value` (1 .. 2^53-1) to an eventfd counter. Returns `false` on `EAGAIN`. */
  eventfdWrite(handle: FdHandle, value: number): boolean;

  /** Reads and resets an eventfd counter (or takes 1, in semaphore mode); `null` on `EAGAIN`. */
  eventfdRead(handle: FdHandle): number | null;

  /**
   * The owned-waiter-thread facility, proven on a descriptor: a native thread (not the libuv
   * pool) that blocks in `poll(2)` until `handle` is readable, reports it through a
   * thread-safe function (`callback(null)` on the event loop, or `callback(error)`), and
   * then sleeps until re-armed with {@link waiterArm}. Created armed. The same machinery
   * waits on semaphores, System V queues and futexes, which have no descriptor.
   * The waiter keeps the event loop alive only while it is armed.
   */
  fdWaiter(handle: FdHandle, callback: (error: SystemError | null) => void): WaiterHandle;

  /** Asks the waiter to wait again after a report. Arming an armed waiter is a no-op. */
  waiterArm(waiter: WaiterHandle): void;

  /**
   * Wakes the thread, joins it, and releases the thread-safe function. Returns only when
   * the thread has exited (milliseconds, whatever the thread was waiting on). Idempotent;
   * also done by the environment cleanup hook at process exit.
   */
  waiterClose(waiter: WaiterHandle): void;

  /** How many waiter threads this environment has running now (for leak tests). */
  waiterCount(): number;

  // ---- POSIX message queues (mq_overview(7)) ---------------------------------------------
  // On Linux a queue descriptor is a file descriptor, so a queue is an FdHandle: fdWatch
  // wakes on it (readable: a message is there; writable: there is room), and fdClose is
  // mq_close(3). Queues are always opened O_NONBLOCK | O_CLOEXEC.

  /**
   * `mq_open(3)` of `name` (`/somename`: one leading slash, at most 255 characters; anything
   * else is a `TypeError` before any system call). `read`/`write` choose the access (at least
   * one), `create` adds `O_CREAT`, `exclusive` `O_EXCL`; `mode` (default `0o600`), `maxmsg`
   * and `msgsize` (together or not at all) apply when the call creates the queue.
   * Errors (`syscall: 'mq_open'`, `path: name`): `ENOENT`, `EEXIST`, `EACCES`, `EINVAL`
   * (attributes above `/proc/sys/fs/mqueue/msg_max` or `msgsize_max`), `EMFILE`
   * (`RLIMIT_NOFILE`, or `RLIMIT_MSGQUEUE` bytes), `ENOSPC` (`queues_max`), `ENAMETOOLONG`.
   */
  mqOpen(name: string, options: MqOpenOptions): FdHandle;

  /** `mq_unlink(3)`: removes the name (the queue goes with its last descriptor). `ENOENT`... */
  mqUnlink(name: string): void;

  /**
   * `mq_send(3)` of `message` with `priority` (0 .. 32767; higher is received first).
   * Returns `false` when the queue is full (`EAGAIN`). Errors: `EMSGSIZE` (longer than the
   * queue's `msgsize`), `EBADF` (not a queue, or not open for writing).
   */
  mqSend(queue: FdHandle, message: ArrayBufferView, priority: number): boolean;

  /**
   * `mq_receive(3)` of the oldest message of the highest priority into `target`: its length,
   * or `null` when the queue is empty (`EAGAIN`). Its priority goes to `priority[0]` when a
   * `Uint32Array` is given. Errors: `EMSGSIZE` when `target` is smaller than the queue's
   * `msgsize` (whatever the message's length), `EBADF`.
   */
  mqReceive(queue: FdHandle, target: ArrayBufferView, priority?: Uint32Array): number | null;

  /** `mq_getattr(3)`. Errors: `EBADF` (not a queue). */
  mqGetAttr(queue: FdHandle): MqAttr;

  // ---- System V message queues (sysvipc(7)) ----------------------------------------------
  // A queue has no descriptor: calls on the event loop use IPC_NOWAIT, and waiting happens in
  // threads owned by waiter handles, woken for close by a signal (SIGRTMAX-2, whose handler
  // the addon installs on first use).

  /**
   * `ftok(3)`: the key of an existing file and a project id (1 .. 255), as an unsigned
   * 32-bit number. Errors (`syscall: 'ftok'`, `path`): `ENOENT`, `EACCES`.
   */
  ftok(path: string, projectId: number): number;

  /**
   * `msgget(2)` of `key` (any 32-bit value; `0` is `IPC_PRIVATE`, which always creates a new
   * queue and therefore requires `create: true`). `create` is `IPC_CREAT`, `exclusive`
   * `IPC_EXCL`, `mode` (default `0o600`) the permissions of a new queue. Errors:
   * `ENOENT`, `EEXIST`, `EACCES`, `ENOSPC` (`msgmni`).
   */
  msgget(
    key: number,
    options?: { readonly create?: boolean; readonly exclusive?: boolean; readonly mode?: number },
  ): SysvMsgHandle;

  /**
   * A handle for an existing queue identifier (from another process, or `ipcs -q`), checked
   * with `msgctl(IPC_STAT)`. Errors (`syscall: 'msgctl'`): `EINVAL` (no such queue), `EACCES`.
   */
  msgOpenId(id: number): SysvMsgHandle;

  /** The queue identifier, or `-1` once the handle is closed. */
  msgId(queue: SysvMsgHandle): number;

  /**
   * `msgsnd(2)` with `IPC_NOWAIT` of a message of `type` (1 .. 2^53-1). Returns `false` when
   * the queue is full (`EAGAIN`). Errors: `EINVAL` (queue gone, or longer than `msgmax`),
   * `EIDRM`, `EACCES`.
   */
  msgsnd(queue: SysvMsgHandle, type: number, message: ArrayBufferView): boolean;

  /**
   * `msgrcv(2)` with `IPC_NOWAIT` into `target`: `msgtyp` 0 takes the first message, `N > 0`
   * the first of type N (with `except`, `MSG_EXCEPT`: the first of any other type), `-N`
   * the first of the lowest type <= N. Returns the length, or `null` when no such message is
   * there (`ENOMSG`); the type goes to `type[0]` when a `Float64Array` is given. A message
   * longer than `target` stays in the queue: `E2BIG`. A zero-length message that a
   * {@link msgRecvWaiter} of this handle took while peeking comes first.
   * Errors: `E2BIG`, `EINVAL` (the queue is gone), `EIDRM`, `EACCES`.
   */
  msgrcv(
    queue: SysvMsgHandle,
    target: ArrayBufferView,
    msgtyp: number,
    options?: { readonly except?: boolean },
    type?: Float64Array,
  ): number | null;

  /** `msgctl(IPC_STAT)`. Errors: `EINVAL` (the queue is gone), `EACCES`. */
  msgStat(queue: SysvMsgHandle): MsgStat;

  /**
   * `msgctl(IPC_RMID)`: removes the queue and its messages now; everyone blocked on it gets
   * `EIDRM`. The handle stays open. Errors: `EINVAL` (already gone), `EPERM`.
   */
  msgRmid(queue: SysvMsgHandle): void;

  /**
   * Closes the handle: its waiters first (their threads woken and joined), then puts back a
   * zero-length message a waiter took that nobody received. Never removes the queue.
   * Idempotent.
   */
  msgClose(queue: SysvMsgHandle): void;

  /**
   * A waiter thread that blocks until a message that `msgrcv(queue, _, msgtyp, options)`
   * would take is there, then calls `callback(null)` and sleeps until {@link waiterArm}. It
   * peeks (a blocking `msgrcv` with a zero-byte buffer fails with `E2BIG` and leaves the
   * message), so the event loop receives the message itself. `callback(error)`: `EIDRM` when
   * the queue is removed during the wait, `EINVAL` when it was already gone. Created armed;
   * `waiterClose`, `msgClose` and teardown wake it at once (a signal makes `msgrcv` return
   * `EINTR`) and join it.
   */
  msgRecvWaiter(
    queue: SysvMsgHandle,
    msgtyp: number,
    options: { readonly except?: boolean } | undefined,
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;
}
