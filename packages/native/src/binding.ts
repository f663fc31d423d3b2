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
/**
 * A shared-memory mapping (`mmap(2)` of a POSIX segment, a memfd or a file, or `shmat(2)` of a
 * System V segment). Closing it ({@link Binding.shmUnmap}) closes the futex waiters on it,
 * detaches every `ArrayBuffer` made over it (they then have `byteLength` 0), and unmaps.
 */
export type ShmMappingHandle = Handle<'shm-mapping'>;
/**
 * A System V shared-memory segment's id (`shmget(2)`). Closing the handle forgets the id and
 * never removes the segment; {@link Binding.sysvShmRemove} does.
 */
export type SysvShmHandle = Handle<'sysv-shm'>;
/**
 * A POSIX semaphore (`sem_overview(7)`): a named one from {@link Binding.semOpen}, or an
 * unnamed process-shared one in a mapping ({@link Binding.semInit}, {@link Binding.semAttach}).
 * Closing it closes its waiters first, then `sem_close`s a named one; it removes nothing.
 */
export type PosixSemHandle = Handle<'posix-sem'>;
/**
 * A System V semaphore set's identifier (`semget(2)`). Closing the handle closes its waiters
 * and never removes the set; {@link Binding.sysvSemRemove} does.
 */
export type SysvSemHandle = Handle<'sysv-sem'>;
/**
 * A robust process-shared pthread mutex in a mapping ({@link Binding.robustMutexInit}). Closing
 * it closes its waiters; the memory belongs to the mapping.
 */
export type RobustMutexHandle = Handle<'robust-mutex'>;
/** A process-shared pthread condition variable in a mapping ({@link Binding.condInit}). */
export type CondVarHandle = Handle<'cond-var'>;

/**
 * One `struct sembuf` for {@link Binding.sysvSemOp} and {@link Binding.sysvSemWaiter}.
 * `semop(2)` applies a list of them atomically: all or none.
 */
export interface SemOp {
  /** The semaphore's index in the set: `0 .. 65535` (and below the set's `nsems`). */
  readonly num: number;
  /** Added to the value (`-32768 .. 32767`); `0` waits until the value is zero. */
  readonly op: number;
  /** `SEM_UNDO`: the kernel undoes the operation when this process exits, however it ends. */
  readonly undo?: boolean;
  /** `IPC_NOWAIT` (forced by `sysvSemOp`; in a waiter it makes a blocking wait fail with `EAGAIN`). */
  readonly nowait?: boolean;
}

/** {@link Binding.sysvSemStat}: `semctl(IPC_STAT)`. */
export interface SysvSemStat {
  /** The key (unsigned 32-bit; `0` for `IPC_PRIVATE`). */
  readonly key: number;
  readonly id: number;
  readonly nsems: number;
  /** Permission bits (`0o600`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** Seconds since the epoch of the last `semop` (0: none yet). */
  readonly otime: number;
  /** Seconds since the epoch of the last change by `semctl`. */
  readonly ctime: number;
}

/** A byte range for the open file description locks of {@link Binding.ofdLock}. */
export interface OfdRange {
  /** First byte, from the start of the file. Default `0`. */
  readonly start?: number;
  /** How many bytes; `0` (the default) means to the end of the file, however far it grows. */
  readonly length?: number;
}

/**
 * What a lock waiter is doing ({@link Binding.lockWaiterState}) and what its last finished
 * command came to.
 */
export interface LockWaiterState {
  readonly state: 'idle' | 'acquiring' | 'held' | 'releasing' | 'cond-waiting';
  readonly result: 'none' | 'acquired' | 'owner-dead' | 'cancelled' | 'released' | 'signaled';
}

/** {@link Binding.memfdAddSeals} and {@link Binding.memfdGetSeals}: `fcntl(2)` file seals. */
export interface MemfdSeals {
  /** `F_SEAL_SEAL`: no more seals can be added. */
  readonly seal?: boolean;
  /** `F_SEAL_SHRINK`: the size cannot go down (so a mapping can never raise `SIGBUS`). */
  readonly shrink?: boolean;
  /** `F_SEAL_GROW`: the size cannot go up. */
  readonly grow?: boolean;
  /** `F_SEAL_WRITE`: the contents cannot change. */
  readonly write?: boolean;
  /** `F_SEAL_FUTURE_WRITE`: no new writable mapping or write; existing ones keep working. */
  readonly futureWrite?: boolean;
}

/** {@link Binding.sysvShmStat}: `shmctl(IPC_STAT)`. */
export interface SysvShmStat {
  /** Bytes (`shm_segsz`). */
  readonly size: number;
  /** Current attaches (`shm_nattch`). */
  readonly attachments: number;
  /** Permission bits (`0o600`). */
  readonly mode: number;
  /** The key it was created with (0 for `IPC_PRIVATE`). */
  readonly key: number;
  readonly creatorPid: number;
  /** The process that last attached or detached. */
  readonly lastPid: number;
  /** `IPC_RMID` was done: it goes away at the last detach. */
  readonly removed: boolean;
}

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

/** `poll(2)` bits for {@link Binding.fdPoll} (its `events` and result), as the kernel has them. */
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDHUP = 0x2000;

/** A Unix socket's type: `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`. */
export type SocketType = 'stream' | 'dgram' | 'seqpacket';

/** Who is at the other end of a socket, as the kernel recorded it (`struct ucred`). */
export interface Credentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** What {@link Binding.socketRecvmsg} received (the bytes are in its `target`). */
export interface ReceivedMessage {
  /** Bytes placed in `target`: `0` is end of stream on a stream socket, or an empty message. */
  readonly length: number;
  /** A datagram or seqpacket message was longer than `target`; the kernel dropped the rest. */
  readonly truncated: boolean;
  /** Descriptors passed with `SCM_RIGHTS`, now owned by the caller (closed by GC if not). */
  readonly fds: FdHandle[];
  /** The peer sent more descriptors than `maxFds`; the kernel closed the others. */
  readonly fdsTruncated: boolean;
  /** The sender's address, when asked for (`''`: an unnamed socket). */
  readonly address?: string;
  /** `SCM_CREDENTIALS`, when asked for and `SO_PASSCRED` is set on the receiving socket. */
  readonly credentials?: Credentials;
}

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

  // ---- the process (prctl(2)) -------------------------------------------------------------

  /**
   * `prctl(PR_SET_PDEATHSIG, signal)`: this process gets `signal` (1 .. SIGRTMAX; `0` clears
   * the setting) when its parent dies, however the parent dies (SIGKILL included). Returns
   * `getppid(2)` read right after, to close the race with a parent that died before the
   * call, which sends nothing: when the result is not the parent you expect, it is gone
   * already (you were reparented to init or a subreaper) and you should exit. On Linux
   * "parent" is the thread that spawned this process: spawn from the main thread.
   * Cleared by `fork(2)` and by exec of a set-user-ID binary. Errors: `EINVAL` (`prctl`).
   *
   * @example
   * ```ts
   * const expected = Number(process.env.RXIPC_PARENT_PID);
   * if (native.setParentDeathSignal(os.constants.signals.SIGKILL) !== expected) process.exit(1);
   * ```
   */
  setParentDeathSignal(signal: number): number;

  /** `prctl(PR_GET_PDEATHSIG)`: the parent-death signal of this process, `0` for none. */
  getParentDeathSignal(): number;

  /**
   * `sched_getcpu(3)`: the CPU this thread runs on now, `-1` where the kernel cannot tell.
   * Advisory (the thread may move a moment later) and cheap (a vDSO call). The shared-memory
   * ring uses it to choose how eagerly to wake a peer: at once when the peer runs on another
   * CPU, later when both share one.
   */
  currentCpu(): number;

  // ---- FIFOs (fifo(7)) -------------------------------------------------------------------

  /**
   * `mkfifo(3)`: a named pipe at `path` (absolute; a relative path is a `TypeError`
   * `ERR_INVALID_ARG_VALUE`) with `mode` (`0` .. `0o7777`, narrowed by the umask). Errors:
   * `EEXIST` when anything exists there, `ENOENT`, `EACCES` (`syscall: 'mkfifo'`, `path`).
   */
  mkfifo(path: string, mode: number): void;

  /**
   * Opens the FIFO at `path` with `O_NONBLOCK | O_CLOEXEC`, so it never waits for the other
   * side. A reader opens at once and reads `0` bytes until a writer came and left (tell the
   * two apart with {@link fdPoll}: `POLLHUP`). A writer fails with `ENXIO` while no process
   * has the FIFO open for reading. `'readwrite'` never waits and never sees end of stream
   * (Linux). Anything but a FIFO is refused with `EINVAL` (the hint says what it is). Errors:
   * `ENOENT`, `EACCES`, `ENXIO`, `EINVAL` (`syscall: 'open'`, `path`).
   */
  fifoOpen(path: string, access: 'read' | 'write' | 'readwrite'): FdHandle;

  /**
   * `poll(2)` on one descriptor with a zero timeout: the `revents` now ({@link POLLIN},
   * {@link POLLOUT}, {@link POLLERR}, {@link POLLHUP}, {@link POLLNVAL}, {@link POLLRDHUP}), `0`
   * when none holds. `events` is a mask of `POLLIN | POLLPRI | POLLOUT | POLLRDHUP`. Never waits.
   */
  fdPoll(handle: FdHandle, events: number): number;

  // ---- Unix domain sockets (unix(7)) -----------------------------------------------------
  //
  // Addresses are strings: `'/run/app.sock'` (a path, absolute), `'\0name'` (Linux's abstract
  // namespace: the bytes after the NUL), or `''` (unnamed; `socketBind` then lets the kernel
  // choose an abstract name). Sockets are descriptors: fdRead, fdWritev, fdWatch and fdClose
  // work on them too.

  /** `socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC)`. Errors: `EMFILE`, `ENFILE`. */
  socket(type: SocketType): FdHandle;

  /** `socketpair(2)`: two connected, non-blocking, close-on-exec sockets. */
  socketpair(type: SocketType): [FdHandle, FdHandle];

  /**
   * `bind(2)`. A path becomes a socket file whose mode is the socket's (set it first with
   * `fchmod` on {@link fdNumber}) narrowed by the umask. Errors (`syscall: 'bind'`, `path`):
   * `EADDRINUSE`, `ENOENT`, `EACCES`, `ENAMETOOLONG` (a path holds at most 107 bytes).
   */
  socketBind(handle: FdHandle, address: string): void;

  /** `listen(2)`; `backlog` 0 .. 65535. Errors: `EOPNOTSUPP` (datagram), `EINVAL`. */
  socketListen(handle: FdHandle, backlog: number): void;

  /**
   * `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: the next connection, or `null` when none
   * is waiting. Errors: `EMFILE`, `ENFILE`, `EINVAL` (not listening).
   */
  socketAccept(handle: FdHandle): FdHandle | null;

  /**
   * `connect(2)` without waiting: `true` when connected, `false` when it cannot be made now
   * (`EAGAIN`: the listener's backlog is full; retry later). Errors (`syscall: 'connect'`,
   * `path`, with a hint): `ECONNREFUSED` (nothing listens: a stale socket file), `ENOENT`,
   * `EACCES`, `EPROTOTYPE` (a socket of another type).
   */
  socketConnect(handle: FdHandle, address: string): boolean;

  /** `getsockname(2)`: the socket's own address (`''` when unnamed). */
  socketName(handle: FdHandle): string;

  /**
   * `SO_PEERCRED`: the process at the other end of a connected stream or seqpacket socket, as
   * of its `connect(2)` (seen from a client: the listener's, as of `listen(2)`).
   */
  socketPeerCred(handle: FdHandle): Credentials;

  /**
   * `getsockopt(SOL_SOCKET, name)`. Buffer sizes read back doubled (socket(7)); `SO_TYPE` is
   * 1 (stream), 2 (dgram) or 5 (seqpacket).
   */
  socketGetOption(
    handle: FdHandle,
    name: 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_PASSCRED' | 'SO_TYPE' | 'SO_ERROR',
  ): number;

  /** `setsockopt(SOL_SOCKET, name, value)`; the kernel caps buffer sizes silently. */
  socketSetOption(
    handle: FdHandle,
    name: 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_PASSCRED',
    value: number,
  ): void;

  /** `shutdown(2)`: `'write'` gives a stream or seqpacket peer end of stream. */
  socketShutdown(handle: FdHandle, how: 'read' | 'write' | 'both'): void;

  /**
   * `send(2)` of one message, without waiting and without `SIGPIPE`: the bytes sent (a datagram
   * or seqpacket message goes whole), or `null` when it does not fit now. Errors: `EMSGSIZE`
   * (the hint names the limit: `SO_SNDBUF` - 32), `EPIPE`, `ECONNRESET`, `ECONNREFUSED`.
   */
  socketSend(handle: FdHandle, message: ArrayBufferView): number | null;

  /**
   * `sendmmsg(2)` of `messages[start .. end)` (at most 1024), one message per view, without
   * waiting and without `SIGPIPE`: how many the kernel took (each whole, on a datagram or
   * seqpacket socket), or `null` when it took none. One system call per batch. An error on
   * the first message throws (`EMSGSIZE` with the limit, `EPIPE`, `ECONNREFUSED`); after some
   * were sent, their count is returned and the next call meets the error.
   */
  socketSendmmsg(
    handle: FdHandle,
    messages: readonly ArrayBufferView[],
    start: number,
    end: number,
  ): number | null;

  /**
   * `recv(2)` of one datagram or seqpacket message with `MSG_TRUNC`: its full length (more than
   * `target.byteLength` when it did not fit; the rest is gone), or `null` when none is waiting.
   * `0` is an empty message, or end of stream on seqpacket (recv(2) cannot tell them apart).
   */
  socketRecv(handle: FdHandle, target: ArrayBufferView): number | null;

  /**
   * `recvmmsg(2)` with `MSG_TRUNC`, for datagram and seqpacket sockets: up to `lengths.length`
   * (1 .. 1024) waiting messages, message `i` into `target`'s bytes `[i * slotSize, (i + 1) *
   * slotSize)` and its full length into `lengths[i]` (more than `slotSize`: it did not fit,
   * the rest is gone). How many arrived, or `null` when none was waiting. One system call.
   */
  socketRecvmmsg(
    handle: FdHandle,
    target: ArrayBufferView,
    slotSize: number,
    lengths: Int32Array,
  ): number | null;

  /**
   * `sendmsg(2)` without waiting and without `SIGPIPE`: `chunks` in order, to `address` (an
   * unconnected datagram socket), carrying `fds` (open handles or descriptor numbers, at most
   * 253) as `SCM_RIGHTS`; the caller keeps its descriptors. The bytes sent (a stream socket may
   * take part; the descriptors went with it), or `null` when nothing fit (no descriptor was
   * sent). Errors: `EMSGSIZE` (hint: the limit), `EBADF`, `EPIPE`, `ECONNREFUSED`, `ENOENT`.
   */
  socketSendmsg(
    handle: FdHandle,
    chunks: ArrayBufferView | readonly ArrayBufferView[],
    options?: { readonly fds?: readonly (FdHandle | number)[]; readonly address?: string },
  ): number | null;

  /**
   * `recvmsg(2)` into `target` without waiting, with `MSG_CMSG_CLOEXEC`: what arrived (see
   * {@link ReceivedMessage}), or `null` when nothing is waiting. Descriptors (at most `maxFds`,
   * default 0: the kernel closes what does not fit) become handles the caller owns.
   * `address` asks for the sender's address; `credentials` for `SCM_CREDENTIALS` (needs
   * `SO_PASSCRED`). Errors: `ECONNRESET`, `ENOTCONN`.
   */
  socketRecvmsg(
    handle: FdHandle,
    target: ArrayBufferView,
    options?: {
      readonly maxFds?: number;
      readonly address?: boolean;
      readonly credentials?: boolean;
    },
  ): ReceivedMessage | null;

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
   * `mq_send(3)` of `messages[start]` up to (not including) `messages[end]`, in order, in one
   * call (at most 1024 messages; more is a `RangeError`): the batch crosses the JS boundary
   * once. `priorities` is one priority for all, or a `Uint32Array` whose element `i - start`
   * belongs to `messages[i]` (all checked, 0 .. 32767, before anything is sent). Returns how
   * many were sent: fewer than `end - start` when the queue filled up (`EAGAIN`) or a later
   * message failed (it comes first next time, and that call throws). Errors, only when the
   * first message fails: `EMSGSIZE`, `EBADF`.
   */
  mqSendMany(
    queue: FdHandle,
    messages: readonly ArrayBufferView[],
    start: number,
    end: number,
    priorities: number | Uint32Array,
  ): number;

  /**
   * `mq_receive(3)` of the oldest message of the highest priority into `target`, from byte
   * `offset` (default 0; a caller that packs messages into one buffer needs no view per call):
   * its length, or `null` when the queue is empty (`EAGAIN`). Its priority goes to
   * `priority[0]` when a `Uint32Array` is given. Errors: `EMSGSIZE` when the room after
   * `offset` is smaller than the queue's `msgsize` (whatever the message's length), `EBADF`.
   */
  mqReceive(
    queue: FdHandle,
    target: ArrayBufferView,
    priority?: Uint32Array,
    offset?: number,
  ): number | null;

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
   * `msgsnd(2)` with `IPC_NOWAIT` of `messages[start]` up to (not including) `messages[end]`,
   * in order, in one call (at most 1024 messages; more is a `RangeError`): the batch crosses
   * the JS boundary once. `types` is one type for all, or a `Float64Array` whose element
   * `i - start` belongs to `messages[i]` (all checked, 1 .. 2^53-1, before anything is sent).
   * Returns how many were sent: fewer than `end - start` when the queue filled up (`EAGAIN`)
   * or a later message failed (it comes first next time, and that call throws). Errors, only
   * when the first message fails: `EINVAL` (queue gone, or longer than `msgmax`), `EIDRM`,
   * `EACCES`.
   */
  msgsndMany(
    queue: SysvMsgHandle,
    messages: readonly ArrayBufferView[],
    start: number,
    end: number,
    types: number | Float64Array,
  ): number;

  /**
   * `msgrcv(2)` with `IPC_NOWAIT` into `target`, from byte `offset` (default 0; a caller that
   * packs messages into one buffer needs no view per call): `msgtyp` 0 takes the first
   * message, `N > 0` the first of type N (with `except`, `MSG_EXCEPT`: the first of any other
   * type), `-N` the first of the lowest type <= N. Returns the length, or `null` when no such
   * message is there (`ENOMSG`); the type goes to `type[0]` when a `Float64Array` is given. A
   * message longer than the room after `offset` stays in the queue: `E2BIG`. A zero-length
   * message that a {@link msgRecvWaiter} of this handle took while peeking comes first.
   * Errors: `E2BIG`, `EINVAL` (the queue is gone), `EIDRM`, `EACCES`.
   */
  msgrcv(
    queue: SysvMsgHandle,
    target: ArrayBufferView,
    msgtyp: number,
    options?: { readonly except?: boolean },
    type?: Float64Array,
    offset?: number,
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

  /**
   * A waiter thread that sends a message (copied now) with a blocking `msgsnd(2)`, for a
   * full queue: `callback(null)` once the kernel took it, `callback(error)` if the send
   * failed (`EIDRM`, `EINVAL`). It then sleeps until {@link msgSendWaiterLoad} gives it the
   * next message, so one thread serves every time the queue fills. Closing it (or the queue
   * handle) interrupts a send in progress: that message is not sent.
   */
  msgSendWaiter(
    queue: SysvMsgHandle,
    type: number,
    message: ArrayBufferView,
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;

  /**
   * Gives a {@link msgSendWaiter} its next message (copied now) and arms it; it reports as
   * before. `ERR_RXIPC_BAD_HANDLE` for a closed waiter or another kind of waiter;
   * `ERR_RXIPC_BUSY` while its previous message is not sent yet.
   */
  msgSendWaiterLoad(waiter: WaiterHandle, type: number, message: ArrayBufferView): void;

  // ---- shared memory (shm_overview(7), memfd_create(2), sysvipc(7), futex(2)) -------------

  /**
   * `shm_open(3)` of a POSIX segment: `name` is `/` and 1 to 254 characters, no other `/`
   * (a malformed name is a `TypeError` `ERR_INVALID_ARG_VALUE`). Opens read-write (read-only
   * with `readOnly`) and close-on-exec. Creates the segment only with `create: true` (with
   * `exclusive`, `O_EXCL`: `EEXIST` if it exists), with `mode` (default `0o600`) and size 0.
   * Errors (`path` = name): `EEXIST`, `ENOENT`, `EACCES`, `EMFILE`, ... each with a hint.
   */
  shmOpen(
    name: string,
    options?: {
      readonly create?: boolean;
      readonly exclusive?: boolean;
      readonly mode?: number;
      readonly readOnly?: boolean;
    },
  ): FdHandle;

  /** `shm_unlink(3)`: removes the name; existing mappings keep working. `ENOENT`, `EACCES`. */
  shmUnlink(name: string): void;

  /** `ftruncate(2)`: sizes a segment, memfd or file (`EPERM` when a memfd seal forbids it). */
  shmTruncate(fd: FdHandle, size: number): void;

  /** `fstat(2)`'s `st_size`: the segment's size now, in bytes. */
  shmSize(fd: FdHandle): number;

  /**
   * `mmap(2)` of `[offset, offset + length)` of a segment, memfd or file. With `writable`
   * (the default) the mapping is shared: writes reach the object and every process mapping
   * it. With `writable: false` it is a private copy-on-write view (`MAP_PRIVATE`): this
   * process sees the object, and its own writes stay its own (a read-only mapping would make
   * a JavaScript write kill the process, since an `ArrayBuffer` cannot be read-only). The
   * size is checked with `fstat(2)` right before mapping, and a range past its end is a
   * `RangeError`, so no page of the mapping lies beyond the object. `offset` is a multiple of
   * {@link shmPageSize}; `length` defaults to the rest of the object. The descriptor may be
   * closed afterwards. A peer that shrinks an unsealed segment after this can still raise
   * `SIGBUS` on access; seal memfds (`memfdAddSeals(fd, { shrink: true })`) to rule that
   * out. Errors: `ENODEV` (a pipe or socket), `EACCES` (shared mapping of a read-only
   * descriptor), `EPERM` (a memfd sealed against writes), `ENOMEM`.
   */
  shmMap(
    fd: FdHandle,
    options?: { readonly offset?: number; readonly length?: number; readonly writable?: boolean },
  ): ShmMappingHandle;

  /**
   * An `ArrayBuffer` over `[offset, offset + length)` of the mapping (default: all of it),
   * without copying: what one process writes, every process mapping the segment reads.
   * Each call makes a new one; all are detached when the mapping closes. Node copies such
   * buffers instead of transferring them (`postMessage`, `structuredClone`).
   */
  shmBuffer(mapping: ShmMappingHandle, offset?: number, length?: number): ArrayBuffer;

  /**
   * A new `Buffer` (memory of its own, not zeroed first) holding a copy of
   * `[offset, offset + length)` of `mapping`. A copy at least as large as the CPU's L2 cache
   * is written with non-temporal stores: it could not stay in the cache anyway, and its fresh
   * memory is then written without being read first (1 MiB shm-ring messages across two CPUs:
   * 31 against 14 GB/s, and no slower for a subscriber that reads every byte). `RangeError`
   * for a range outside the mapping.
   */
  shmCopyOut(mapping: ShmMappingHandle, offset: number, length: number): Buffer;

  /**
   * Detaches one `ArrayBuffer` made by {@link shmBuffer} on `mapping` (it then has
   * `byteLength` 0). Returns `false`, touching nothing, for any other buffer.
   */
  shmRelease(mapping: ShmMappingHandle, buffer: ArrayBuffer): boolean;

  /**
   * Closes the mapping: its futex waiters (threads woken and joined), then every
   * `ArrayBuffer` over it is detached, then `munmap(2)` (or `shmdt(2)`). Idempotent. The
   * finalizer does the same for a mapping the program dropped.
   */
  shmUnmap(mapping: ShmMappingHandle): void;

  /** The mapping's length and protection, and whether it is still open. No system call. */
  shmMappingInfo(mapping: ShmMappingHandle): { length: number; writable: boolean; open: boolean };

  /** `sysconf(_SC_PAGESIZE)`: mapping offsets are multiples of it. */
  shmPageSize(): number;

  /**
   * `mallopt(3)` `M_MMAP_THRESHOLD` (0 .. 32 MiB) and `M_TRIM_THRESHOLD` (0 .. 2^31-1),
   * process-wide. Raising them lets glibc reuse freed large blocks instead of handing out new
   * pages (and their page faults) for every large buffer, which is what copying large
   * messages out of shared memory into fresh buffers needs. Returns `false` if glibc refused
   * a value.
   */
  mallopt(options: { readonly mmapThreshold?: number; readonly trimThreshold?: number }): boolean;

  /**
   * `memfd_create(2)`: an anonymous segment behind a descriptor (an ordinary {@link FdHandle},
   * so it can be inherited or sent over a Unix socket), with `MFD_ALLOW_SEALING` and
   * `MFD_CLOEXEC` unless the options say `false`. `name` (at most 249 bytes) is only a label
   * in `/proc/<pid>/maps`. Size 0 until {@link shmTruncate}.
   */
  memfdCreate(
    name: string,
    options?: { readonly allowSealing?: boolean; readonly cloexec?: boolean },
  ): FdHandle;

  /**
   * `fcntl(F_ADD_SEALS)`: adds the seals set to `true`. `EPERM` when sealing is closed
   * (`F_SEAL_SEAL`, or no `allowSealing`), `EBUSY` for `write` while a writable mapping exists.
   */
  memfdAddSeals(fd: FdHandle, seals: MemfdSeals): void;

  /** `fcntl(F_GET_SEALS)`: the seals in place. `EINVAL` for a descriptor that is no memfd. */
  memfdGetSeals(fd: FdHandle): Required<MemfdSeals>;

  /**
   * `shmget(2)`: the System V segment with `key` (0 .. 0xffffffff), created (`IPC_CREAT`, with
   * `mode`, default `0o600`, and `IPC_EXCL` with `exclusive`) only with `create: true`.
   * `key` 0 is `IPC_PRIVATE` (always a new segment) and needs `create: true`. `size` in bytes
   * (0 to look an existing segment up). Errors (`path` = the key in hex): `ENOENT`, `EEXIST`,
   * `EINVAL` (size), `ENOSPC` (`shmmni`/`shmall`), `EACCES`.
   */
  sysvShmGet(
    key: number,
    size: number,
    options?: { readonly create?: boolean; readonly exclusive?: boolean; readonly mode?: number },
  ): SysvShmHandle;

  /** A handle for an existing segment id (checked with `IPC_STAT`: `EINVAL`/`EIDRM` if gone). */
  sysvShmOpenId(id: number): SysvShmHandle;

  /** The segment's id, as `ipcs -m` shows it. */
  sysvShmId(segment: SysvShmHandle): number;

  /**
   * `shmat(2)` of the whole segment, read-write (there is no read-only attach: a JavaScript
   * write to it would kill the process). System V segments cannot shrink, so the mapping
   * can never raise `SIGBUS`. {@link shmUnmap} detaches (`shmdt`).
   */
  sysvShmAttach(segment: SysvShmHandle): ShmMappingHandle;

  /**
   * `shmctl(IPC_RMID)`: the segment goes away after the last detach; attached processes keep
   * using it. `EPERM` unless owner or creator, `EINVAL`/`EIDRM` when removed already.
   */
  sysvShmRemove(segment: SysvShmHandle): void;

  /** `shmctl(IPC_STAT)`: size, attach count, mode, key, pids, and whether it is removed. */
  sysvShmStat(segment: SysvShmHandle): SysvShmStat;

  /**
   * A waiter thread (never the libuv pool) that sleeps in `futex(2)` while the 32-bit word at
   * `offset` of a shared `mapping` (a multiple of 4, inside it) equals `expected` (signed or unsigned
   * 32-bit), then calls `callback(null)` on the event loop and sleeps until
   * {@link futexWaiterArm} (or {@link waiterArm}, to wait for the same value again). With
   * `timeoutMs` it also calls `callback(null)` after that long, so the caller can check on
   * its peer. Created armed. `waiterClose` (and closing the mapping) wakes and joins it in
   * milliseconds without touching the shared word (it waits on a private stop word too, with
   * `futex_waitv(2)`). `callback(error)` if the wait fails.
   */
  futexWaiter(
    mapping: ShmMappingHandle,
    offset: number,
    expected: number,
    callback: (error: SystemError | null) => void,
    options?: { readonly timeoutMs?: number },
  ): WaiterHandle;

  /** Re-arms a {@link futexWaiter} to sleep while its word equals `expected`. */
  futexWaiterArm(waiter: WaiterHandle, expected: number): void;

  /**
   * `FUTEX_WAKE` on the 32-bit word at `offset`: wakes up to `count` sleepers of any process
   * and returns how many woke.
   */
  futexWake(mapping: ShmMappingHandle, offset: number, count: number): number;

  // ---- lock waiters: semaphores, file locks, robust mutexes --------------------------------

  /**
   * Starts another acquisition on an idle lock waiter (one made by {@link semWaiter},
   * {@link sysvSemWaiter}, {@link flockWaiter}, {@link ofdLockWaiter} or
   * {@link robustMutexWaiter}, each of which starts acquiring when created). Its thread (never
   * the libuv pool) blocks until it holds, then calls the waiter's callback; read the outcome
   * with {@link lockWaiterState}. `EBUSY` (syscall `'lockWaiterAcquire'`) unless idle.
   */
  lockWaiterAcquire(waiter: WaiterHandle): void;

  /**
   * Releases what the waiter holds. `true`: done now (semaphores, file locks). `false`: the
   * release runs on the waiter's own thread, which reports `'released'` (a robust mutex, which
   * only its owner thread may unlock; `markConsistent` calls `pthread_mutex_consistent` first).
   * `EBUSY` unless held; the releasing call's errno otherwise.
   */
  lockWaiterRelease(waiter: WaiterHandle, options?: { readonly markConsistent?: boolean }): boolean;

  /**
   * Asks a waiter that is acquiring (or waiting on a condition) to give up, and returns at once
   * (the thread is interrupted by a signal, or notices within 10 ms for a mutex). It then
   * reports `'cancelled'`, or, when it got there first, what it acquired: the caller releases
   * that. An acquisition that lands after the cancel is released by the thread itself (except
   * a robust mutex's, reported as acquired). A no-op in other states and once closed.
   */
  lockWaiterCancel(waiter: WaiterHandle): void;

  /**
   * Makes a held acquisition the caller's (a semaphore count consumed for good): the waiter
   * goes idle without releasing, and closing it releases nothing. `EBUSY` unless held.
   */
  lockWaiterDisown(waiter: WaiterHandle): void;

  /** What the waiter is doing, and what its last finished command came to. */
  lockWaiterState(waiter: WaiterHandle): LockWaiterState;

  // ---- POSIX semaphores (sem_overview(7)) --------------------------------------------------

  /**
   * `sem_open(3)`: the semaphore `name` (`/somename`, at most 251 characters; it lives in
   * `/dev/shm/sem.somename`). `create` is `O_CREAT`, `exclusive` `O_EXCL` (only with `create`);
   * `mode` (default `0o600`) and `value` (`0 .. 2^31-1`, default 0) apply when it is created.
   * Errors (syscall `'sem_open'`, `path` the name): `ENOENT`, `EEXIST`, `EACCES`, `EMFILE`,
   * `ENAMETOOLONG`.
   */
  semOpen(
    name: string,
    options?: {
      readonly create?: boolean;
      readonly exclusive?: boolean;
      readonly mode?: number;
      readonly value?: number;
    },
  ): PosixSemHandle;

  /** `sem_unlink(3)`: removes the name; the semaphore goes when the last process closes it. */
  semUnlink(name: string): void;

  /**
   * `sem_init(3)` with `pshared` 1: an unnamed process-shared semaphore of `value` in the 32
   * bytes at `offset` of `mapping` (a multiple of 8, inside it). Initialize once; other
   * processes {@link semAttach}. The handle keeps the mapping alive; unmapping closes it.
   */
  semInit(mapping: ShmMappingHandle, offset: number, value: number): PosixSemHandle;

  /** A handle on the unnamed semaphore another process initialized at `offset`. */
  semAttach(mapping: ShmMappingHandle, offset: number): PosixSemHandle;

  /**
   * `sem_destroy(3)` on an unnamed semaphore (nobody may be waiting on it), then closes the
   * handle. `EINVAL` for a named one.
   */
  semDestroy(sem: PosixSemHandle): void;

  /** Closes the handle (waiters first; `sem_close` for a named one). Idempotent. */
  semClose(sem: PosixSemHandle): void;

  /** `sem_post(3)`: adds one. `EOVERFLOW` at `SEM_VALUE_MAX` (2^31-1). */
  semPost(sem: PosixSemHandle): void;

  /** `sem_trywait(3)`: takes one if it can (`true`), else `false`. Never blocks. */
  semTryWait(sem: PosixSemHandle): boolean;

  /** `sem_getvalue(3)`: the value now (0 while processes wait, on Linux). */
  semGetValue(sem: PosixSemHandle): number;

  /**
   * A lock waiter whose thread takes one with `sem_wait(3)`, starting now; a release is one
   * `sem_post`. See {@link lockWaiterAcquire}. The waiter keeps `sem` alive; closing `sem`
   * closes the waiter first. `EBUSY` (syscall `'sigaction'`) if another handler owns the
   * interrupting signal (SIGRTMAX-3).
   */
  semWaiter(sem: PosixSemHandle, callback: (error: SystemError | null) => void): WaiterHandle;

  // ---- System V semaphore sets (sysvipc(7)) ------------------------------------------------

  /**
   * `semget(2)`: the set of `key` (32-bit; `0` is `IPC_PRIVATE` and needs `create`) with
   * `nsems` semaphores (`0` opens an existing set of any size). `create` is `IPC_CREAT`,
   * `exclusive` `IPC_EXCL`; `mode` defaults to `0o600`; a new set's values are 0. Errors
   * (syscall `'semget'`, with a hint naming the limit): `ENOENT`, `EEXIST`, `EACCES`, `EINVAL`
   * (`nsems` above `SEMMSL`), `ENOSPC` (`SEMMNI`, `SEMMNS`).
   */
  sysvSemGet(
    key: number,
    nsems: number,
    options?: { readonly create?: boolean; readonly exclusive?: boolean; readonly mode?: number },
  ): SysvSemHandle;

  /** A handle for an existing set id (checked with `IPC_STAT`). */
  sysvSemOpenId(id: number): SysvSemHandle;

  /** The set id, or `-1` once the handle is closed. */
  sysvSemId(set: SysvSemHandle): number;

  /** `semctl(IPC_STAT)`. */
  sysvSemStat(set: SysvSemHandle): SysvSemStat;

  /**
   * `semop(2)` with `IPC_NOWAIT`: every operation at once, atomically. `true` when done,
   * `false` when it would block (nothing done). Errors (syscall `'semop'`, with a hint):
   * `ERANGE` (a value would pass `SEMVMX`, 32767), `E2BIG` (more than `SEMOPM` operations),
   * `EFBIG` (`num` beyond the set), `EIDRM`/`EINVAL` (the set is gone).
   */
  sysvSemOp(set: SysvSemHandle, ops: readonly SemOp[]): boolean;

  /** `semctl(GETVAL)`. */
  sysvSemGetValue(set: SysvSemHandle, num: number): number;

  /** `semctl(GETALL)`: every value, in order. */
  sysvSemGetAll(set: SysvSemHandle): number[];

  /**
   * `semctl(SETVAL)`: sets one value (`ERANGE` above `SEMVMX`) and clears every process's
   * undo entries for it.
   */
  sysvSemSetValue(set: SysvSemHandle, num: number, value: number): void;

  /**
   * `semctl` `GETVAL`, `GETPID` (who operated last), `GETNCNT` (waiting for it to grow) and
   * `GETZCNT` (waiting for zero), read one after the other.
   */
  sysvSemInfo(
    set: SysvSemHandle,
    num: number,
  ): { value: number; pid: number; ncnt: number; zcnt: number };

  /** `semctl(IPC_RMID)`: removes the set; its waiters everywhere wake with `EIDRM`. */
  sysvSemRemove(set: SysvSemHandle): void;

  /** Closes the handle and its waiters; removes nothing. Idempotent. */
  sysvSemClose(set: SysvSemHandle): void;

  /**
   * A lock waiter whose thread performs `semop(ops)` blocking, starting now. A release (and a
   * cancel that lost the race, and closing while held) applies `rollback`, the caller's
   * inverse of `ops`, with `IPC_NOWAIT`. A removed set reports `EIDRM`.
   */
  sysvSemWaiter(
    set: SysvSemHandle,
    ops: readonly SemOp[],
    rollback: readonly SemOp[],
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;

  // ---- file locks (flock(2), fcntl(2) open file description locks) -------------------------

  /**
   * `flock(2)` with `LOCK_NB` on the descriptor's open file description: `true` when placed
   * (or converted, or removed), `false` when another description holds a conflicting lock.
   */
  flock(fd: FdHandle, mode: 'shared' | 'exclusive' | 'unlock'): boolean;

  /** A lock waiter whose thread calls `flock(2)` blocking; a release is `LOCK_UN`. */
  flockWaiter(
    fd: FdHandle,
    mode: 'shared' | 'exclusive',
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;

  /**
   * `fcntl(F_OFD_SETLK)` on a byte range: `true` when placed (or changed, or removed), `false`
   * when another open file description holds a conflicting lock. A write lock needs a
   * descriptor open for writing (`EBADF` otherwise, with a hint).
   */
  ofdLock(fd: FdHandle, lock: OfdRange & { readonly type: 'read' | 'write' | 'unlock' }): boolean;

  /**
   * `fcntl(F_OFD_GETLK)`: `null` when `lock` could be placed, else one conflicting lock (`pid`
   * is -1 for an OFD lock, the owner for a traditional `fcntl` lock).
   */
  ofdGetLock(
    fd: FdHandle,
    lock: OfdRange & { readonly type: 'read' | 'write' },
  ): { type: 'read' | 'write'; start: number; length: number; pid: number } | null;

  /** A lock waiter whose thread calls `fcntl(F_OFD_SETLKW)`; a release unlocks the range. */
  ofdLockWaiter(
    fd: FdHandle,
    lock: OfdRange & { readonly type: 'read' | 'write' },
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;

  // ---- robust mutexes and condition variables (pthread_mutexattr_setrobust(3)) -------------

  /**
   * `pthread_mutex_init` at `offset` of `mapping` (a multiple of 8, 40 bytes inside it) with
   * `PTHREAD_PROCESS_SHARED`, `PTHREAD_MUTEX_ROBUST` and `PTHREAD_MUTEX_ERRORCHECK`. One process
   * initializes it, once, while nobody uses it; the others {@link robustMutexAttach}.
   */
  robustMutexInit(mapping: ShmMappingHandle, offset: number): RobustMutexHandle;

  /** A handle on the robust mutex another process initialized at `offset`. */
  robustMutexAttach(mapping: ShmMappingHandle, offset: number): RobustMutexHandle;

  /**
   * Closes the handle and its waiters; a waiter that held the mutex lets its thread exit
   * holding it, so the next locker gets `EOWNERDEAD`. Idempotent.
   */
  robustMutexClose(mutex: RobustMutexHandle): void;

  /**
   * A lock waiter whose thread locks the mutex, starting now, and then owns it: the result is
   * `'acquired'`, or `'owner-dead'` when the previous owner died holding it (repair, then release
   * with `markConsistent`). Release unlocks on that thread (it reports `'released'`). Cancels
   * are noticed within 10 ms (the lock is taken in 10 ms timed slices). `ENOTRECOVERABLE` is
   * reported when an earlier owner unlocked it inconsistent.
   */
  robustMutexWaiter(
    mutex: RobustMutexHandle,
    callback: (error: SystemError | null) => void,
  ): WaiterHandle;

  /**
   * On a mutex waiter that holds its mutex: `pthread_cond_clockwait` on `cond` for at most
   * `timeoutMs` (default 100), on the owner thread. Reports `'signaled'` when it woke (by a
   * signal, a broadcast, spuriously or at the timeout: re-check and wait again),
   * `'owner-dead'`, or `'cancelled'`; the mutex is held again in every case. `markConsistent`
   * makes the mutex consistent first. `EBUSY` unless the waiter holds the mutex.
   */
  robustMutexCondWait(
    waiter: WaiterHandle,
    cond: CondVarHandle,
    options?: { readonly timeoutMs?: number; readonly markConsistent?: boolean },
  ): void;

  /**
   * `pthread_cond_init` at `offset` (a multiple of 8, 48 bytes inside the mapping) with
   * `PTHREAD_PROCESS_SHARED` and `CLOCK_MONOTONIC`.
   */
  condInit(mapping: ShmMappingHandle, offset: number): CondVarHandle;

  /** A handle on the condition variable another process initialized at `offset`. */
  condAttach(mapping: ShmMappingHandle, offset: number): CondVarHandle;

  /** `pthread_cond_signal`: wakes one waiter, in any process. */
  condSignal(cond: CondVarHandle): void;

  /** `pthread_cond_broadcast`: wakes every waiter. */
  condBroadcast(cond: CondVarHandle): void;

  /** Closes the handle (and any mutex waiter waiting on it right now). Idempotent. */
  condClose(cond: CondVarHandle): void;
}
