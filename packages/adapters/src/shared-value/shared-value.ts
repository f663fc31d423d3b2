/**
 * A value in shared memory that every process sees, shaped like RxJS's `BehaviorSubject`:
 * `value`, `next(v)`, and an `Observable` of changes.
 *
 * The segment (a named POSIX one) holds a small header and the encoded value:
 *
 * ```
 * 0   MAGIC 'RXSV', VERSION, CAPACITY (bytes for the value), READY
 * 16  SEQ        even while stable, odd while a write is in progress (the seqlock)
 * 20  LOCK       0, or the pid of the writer holding it
 * 24  WATCHERS   processes with subscribers (writers wake SEQ's sleepers only if any)
 * 28  LENGTH     bytes of the encoded value
 * 64  the encoded value
 * ```
 *
 * Writers are serialized by LOCK (a compare-and-swap word; a lock whose holder died is taken
 * over). A write makes SEQ odd, writes LENGTH and the bytes, and makes SEQ even again.
 * Readers copy the bytes between two reads of SEQ and retry unless both are the same even
 * number, so a reader never sees a torn value, and never blocks a writer. Observers sleep on
 * SEQ with a futex in a thread of their own.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Observable, type Subscriber } from 'rxjs';

import { type Binding, native, type ShmMappingHandle, type WaiterHandle } from '@rxipc/native';

import type { Codec } from '../codecs/codec.js';
import { jsonCodec } from '../codecs/json.js';
import { FrameTooLargeError } from '../errors.js';
import { registerNamedObject } from '../registry/named-objects.js';
import { PeerDiedError, ShmBusyError, ShmClosedError, ShmLayoutError } from '../shm/errors.js';
import { checkShmName, checkSize } from '../shm/names.js';
import { openNamedSegmentSync, sleep, SYNC_READY_WAIT_MS } from '../shm/open-named.js';
import { unlinkQuietly } from '../shm/posix-shm.js';

/** 'RXSV' as a little-endian word. */
const MAGIC = 0x56535852;
const VERSION = 1;
const WORD = {
  MAGIC: 0,
  VERSION: 1,
  CAPACITY: 2,
  READY: 3,
  SEQ: 4,
  LOCK: 5,
  WATCHERS: 6,
  LENGTH: 7,
} as const;
const SEQ_OFFSET = WORD.SEQ * 4;
const DATA = 64;
const INT32_MAX = 2 ** 31 - 1;

/** Options for {@link sharedValue}. */
export interface SharedValueOptions<T> {
  /** The segment's POSIX name: `/` and 1 to 254 more characters, none of them `/`. */
  readonly name: string;
  /** The value a new cell starts with. Needed when this call may create the cell. */
  readonly initial?: T;
  /** Turns values into bytes and back. Default: JSON. */
  readonly codec?: Codec<T>;
  /** Room for the encoded value, in bytes, when creating. Default 4096. */
  readonly maxBytes?: number;
  /**
   * `'auto'` (default): create the cell, or join it if it exists. `'never'`: join only
   * (`ENOENT` if absent). `'always'`: create only (`EEXIST` if present).
   */
  readonly create?: 'auto' | 'never' | 'always';
  /** Permission bits of a new segment. Default `0o600`. */
  readonly mode?: number;
  /** Keep a cell this process created after `close()` and exit. Default `false`. */
  readonly persist?: boolean;
  /**
   * The longest a call waits for another process (one holding the writers' lock, or in the
   * middle of a write), in ms, before it throws `ERR_RXIPC_SHM_BUSY`. The wait blocks the
   * event loop (every call is synchronous), so it is short: a write takes microseconds, and
   * only a stopped process or a slow `update` function holds the cell longer. Default 50.
   */
  readonly maxWaitMs?: number;
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/**
 * Opens a value shared by every process that opens the same name, as a `BehaviorSubject`-like
 * object: {@link SharedValue.value} reads it, {@link SharedValue.next} writes it, and
 * subscribing emits the current value, then each new one.
 *
 * The cell is created (mode `0o600`, `O_EXCL`, recorded in the registry of named objects) with
 * `initial`, or joined if it exists. Work happens at call time, synchronously: joining a cell
 * that another process has created but not finished setting up waits for it at most 5 ms
 * (blocking; a live creator takes microseconds), then throws `ERR_RXIPC_SHM_LAYOUT` (a
 * creator that died while setting it up: remove the name with `rxipc clean`). Writes from
 * any process are serialized; a reader never sees half a write (a seqlock). A call that finds
 * the cell held by another live process (stopped mid-write, or in a slow `update`) waits at
 * most `maxWaitMs` (default 50, blocking: the calls are synchronous), then throws
 * `ERR_RXIPC_SHM_BUSY`. Subscribers in
 * this process get this process's writes synchronously, as from a `BehaviorSubject`, and other
 * processes' writes from a futex waiter thread: several quick writes may arrive as one (the
 * latest), never out of order. `close()` completes the subscribers, unmaps, and removes a cell
 * this process created unless `persist`.
 *
 * @example
 * ```ts
 * const config = sharedValue({ name: '/app-config', initial: { level: 'info' } });
 * config.subscribe((c) => setLevel(c.level));     // now, and whenever any process changes it
 * config.next({ level: 'debug' });
 * const hits = sharedValue({ name: '/hits', initial: 0 });
 * hits.update((n) => n + 1);                      // atomic across processes
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a malformed name, or no `initial` when the
 * cell must be created.
 * @throws {SystemError} `EEXIST`, `ENOENT` (with `create`), `EACCES`, `EMFILE`.
 * @throws {ShmLayoutError} `ERR_RXIPC_SHM_LAYOUT` when the segment is not a shared value, or
 * was not finished by its creator within 5 ms.
 * @throws {ShmBusyError} `ERR_RXIPC_SHM_BUSY` (from `value`, `next`, `update`) when another live
 * process holds the cell for more than `maxWaitMs`.
 */
export function sharedValue<T>(options: SharedValueOptions<T>): SharedValue<T> {
  return new SharedValue<T>(options);
}

/** A value in shared memory; see {@link sharedValue}. */
export class SharedValue<T> extends Observable<T> {
  /** The segment's name. */
  readonly name: string;
  /** Whether this process created the cell. */
  readonly created: boolean;
  /** Bytes available for the encoded value. */
  readonly maxBytes: number;

  private readonly binding: Binding;
  private readonly codec: Codec<T>;
  private readonly mapping: ShmMappingHandle;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly subscribers = new Set<Subscriber<T>>();
  private readonly release: ((removeNow?: boolean) => void) | undefined;
  private readonly persist: boolean;
  private readonly maxWaitMs: number;
  private waiter: WaiterHandle | undefined;
  /** The SEQ of the last value emitted to this process's subscribers. */
  private seenSeq = -1;
  private closed = false;

  constructor(options: SharedValueOptions<T>) {
    super((subscriber) => this.attach(subscriber));
    this.name = checkShmName(options.name);
    this.binding = options.binding ?? native;
    this.codec = options.codec ?? (jsonCodec as Codec<T>);
    this.persist = options.persist ?? false;
    this.maxWaitMs = options.maxWaitMs ?? 50;
    if (!Number.isFinite(this.maxWaitMs) || this.maxWaitMs < 0 || this.maxWaitMs > 10_000) {
      throw Object.assign(
        new RangeError(
          `sharedValue ${this.name}: maxWaitMs must be 0 .. 10000 ms, got ${String(options.maxWaitMs)}`,
        ),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    const create = options.create ?? 'auto';
    const capacity = checkSize(options.maxBytes ?? 4096, 'maxBytes');
    const initial =
      create === 'never' || !('initial' in options)
        ? undefined
        : this.encodeChecked(options.initial as T, capacity);
    if (create !== 'never' && initial === undefined) {
      throw Object.assign(
        new TypeError(`sharedValue ${this.name}: give an initial value, or create: 'never'`),
        { code: 'ERR_INVALID_ARG_VALUE' },
      );
    }
    const mode = options.mode ?? 0o600;
    let release: ((removeNow?: boolean) => void) | undefined;
    // Synchronous by contract: a cell another process is still setting up is polled for at
    // most SYNC_READY_WAIT_MS (its creator finishes within microseconds of creating the name).
    const opened = openNamedSegmentSync(
      {
        name: this.name,
        create,
        mode,
        size: DATA + capacity,
        minSize: DATA,
        readyOffset: WORD.READY * 4,
        readyTimeoutMs: SYNC_READY_WAIT_MS,
        what: 'shared value',
      },
      this.binding,
      () => {
        release = registerNamedObject({ kind: 'posix-shm', name: this.name, mode }, () =>
          unlinkQuietly(this.binding, this.name),
        );
      },
    );
    this.release = release;
    this.created = opened.created;
    this.mapping = opened.mapping;
    try {
      const buffer = this.binding.shmBuffer(this.mapping);
      this.i32 = new Int32Array(buffer);
      this.u8 = new Uint8Array(buffer);
      if (this.created) {
        this.i32[WORD.VERSION] = VERSION;
        this.i32[WORD.CAPACITY] = capacity;
        this.i32[WORD.LENGTH] = initial!.byteLength;
        this.u8.set(initial!, DATA);
        Atomics.store(this.i32, WORD.MAGIC, MAGIC);
        Atomics.store(this.i32, WORD.READY, 1);
      } else {
        this.checkLayout(buffer.byteLength);
      }
      this.maxBytes = this.i32[WORD.CAPACITY]!;
    } catch (error) {
      this.binding.shmUnmap(this.mapping);
      release?.(true);
      throw error;
    }
  }

  /** The current value, read from shared memory (never a torn one). */
  get value(): T {
    this.checkOpen('value');
    return this.read().value;
  }

  /**
   * Writes `value` for every process. Subscribers here get it synchronously; other processes'
   * subscribers get it from their waiter threads.
   *
   * @throws {FrameTooLargeError} `ERR_RXIPC_FRAME_TOO_LARGE` when the encoded value exceeds
   * `maxBytes`.
   */
  next(value: T): void {
    this.checkOpen('next()');
    const bytes = this.encodeChecked(value, this.maxBytes);
    this.lock();
    let seq: number;
    try {
      seq = this.write(bytes);
    } finally {
      Atomics.store(this.i32, WORD.LOCK, 0);
    }
    this.notify(seq, value);
  }

  /**
   * Replaces the value with `fn(current)` while holding the writers' lock, so concurrent
   * updates from several processes never lose one (a counter incremented by many processes
   * counts every increment). `fn` must be quick and must not write this value itself.
   * Returns the new value.
   */
  update(fn: (current: T) => T): T {
    this.checkOpen('update()');
    this.lock();
    let seq: number;
    let value: T;
    try {
      value = fn(this.read().value);
      seq = this.write(this.encodeChecked(value, this.maxBytes));
    } finally {
      Atomics.store(this.i32, WORD.LOCK, 0);
    }
    this.notify(seq, value);
    return value;
  }

  /** Completes the subscribers, stops watching, unmaps, and removes a cell we created. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.stopWatching();
      for (const subscriber of [...this.subscribers]) subscriber.complete();
      this.subscribers.clear();
    } finally {
      this.binding.shmUnmap(this.mapping);
      this.release?.(!this.persist);
    }
  }

  // ---- subscribers -----------------------------------------------------------------------

  private attach(subscriber: Subscriber<T>): () => void {
    if (this.closed) {
      subscriber.complete();
      return () => {};
    }
    let current: { seq: number; value: T };
    try {
      current = this.read();
    } catch (error) {
      subscriber.error(error);
      return () => {};
    }
    this.subscribers.add(subscriber);
    if (this.subscribers.size === 1) {
      this.seenSeq = current.seq;
      Atomics.add(this.i32, WORD.WATCHERS, 1);
      this.waiter = this.binding.futexWaiter(this.mapping, SEQ_OFFSET, current.seq, this.onChange);
    }
    subscriber.next(current.value);
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0 && !this.closed) this.stopWatching();
    };
  }

  private stopWatching(): void {
    if (this.waiter === undefined) return;
    this.binding.waiterClose(this.waiter);
    this.waiter = undefined;
    Atomics.sub(this.i32, WORD.WATCHERS, 1);
  }

  /** The waiter saw SEQ move: read the value and emit it unless it was emitted already. */
  private readonly onChange = (error: Error | null): void => {
    if (this.closed || this.waiter === undefined) return;
    let current: { seq: number; value: T };
    try {
      if (error !== null) throw error;
      current = this.read();
    } catch (failure) {
      const subscribers = [...this.subscribers];
      this.stopWatching();
      this.subscribers.clear();
      for (const subscriber of subscribers) subscriber.error(failure);
      return;
    }
    if (current.seq !== this.seenSeq) {
      this.seenSeq = current.seq;
      for (const subscriber of [...this.subscribers]) subscriber.next(current.value);
    }
    if (this.waiter !== undefined) this.binding.futexWaiterArm(this.waiter, this.seenSeq);
  };

  private notify(seq: number, value: T): void {
    if (Atomics.load(this.i32, WORD.WATCHERS) > 0) {
      this.binding.futexWake(this.mapping, SEQ_OFFSET, INT32_MAX);
    }
    if (this.subscribers.size === 0) return;
    this.seenSeq = seq;
    for (const subscriber of [...this.subscribers]) subscriber.next(value);
  }

  // ---- the seqlock -----------------------------------------------------------------------

  /** A consistent copy of the value and the SEQ it belongs to. */
  private read(): { seq: number; value: T } {
    const { i32, u8 } = this;
    const wait = { deadline: 0, state: 0 };
    for (let attempt = 1; ; attempt++) {
      const before = Atomics.load(i32, WORD.SEQ);
      if ((before & 1) === 0) {
        const length = Atomics.load(i32, WORD.LENGTH);
        if (length >= 0 && length <= this.maxBytes) {
          const bytes = u8.slice(DATA, DATA + length);
          if (Atomics.load(i32, WORD.SEQ) === before)
            return { seq: before, value: this.decode(bytes) };
        }
      }
      // A write is in progress: it takes microseconds, unless its writer died in the middle.
      if (attempt % 1024 === 0) {
        const owner = Atomics.load(i32, WORD.LOCK);
        if ((Atomics.load(i32, WORD.SEQ) & 1) === 1 && (owner === 0 || !pidAlive(owner))) {
          throw new PeerDiedError(
            `a writer of the shared value ${this.name}${owner === 0 ? '' : ` (pid ${owner})`} died in the middle of a write; the value is unknown until the next next()`,
            owner,
          );
        }
        this.waitOrGiveUp(wait, Atomics.load(i32, WORD.SEQ), owner, 'half-written');
        sleep(0.05);
      }
    }
  }

  /**
   * The bound on waiting for another process: `wait.state` is what the caller waits on to
   * change (SEQ, or the lock's owner). The clock starts on the first call and again whenever
   * that changed (the other side made progress: this is busy, not stuck); once `maxWaitMs`
   * pass without change, throws `ShmBusyError`.
   */
  private waitOrGiveUp(
    wait: { deadline: number; state: number },
    state: number,
    owner: number,
    doing: string,
  ): void {
    const now = performance.now();
    if (wait.deadline === 0 || state !== wait.state) {
      wait.deadline = now + this.maxWaitMs;
      wait.state = state;
      return;
    }
    if (now < wait.deadline) return;
    throw new ShmBusyError(
      `the shared value ${this.name} has been ${doing} by ${owner === 0 ? 'another process' : `pid ${owner}`} for over ${this.maxWaitMs} ms (maxWaitMs); that process is alive but not finishing (stopped, or a slow update function): try again later`,
      owner,
    );
  }

  /** Writes under the lock; returns the new (even) SEQ. */
  private write(bytes: Uint8Array): number {
    const { i32 } = this;
    const seq = Atomics.load(i32, WORD.SEQ);
    // An odd SEQ here is the mark of a writer that died mid-write: finish its cycle.
    const writing = (seq & 1) === 0 ? (seq + 1) | 0 : seq;
    Atomics.store(i32, WORD.SEQ, writing);
    Atomics.store(i32, WORD.LENGTH, bytes.byteLength);
    this.u8.set(bytes, DATA);
    const done = (writing + 1) | 0;
    Atomics.store(i32, WORD.SEQ, done);
    return done;
  }

  /** Takes the writers' lock, taking it over from a holder that died. */
  private lock(): void {
    const { i32 } = this;
    const me = process.pid;
    const wait = { deadline: 0, state: 0 };
    for (let attempt = 1; ; attempt++) {
      const owner = Atomics.compareExchange(i32, WORD.LOCK, 0, me);
      if (owner === 0) return;
      if (attempt % 64 === 0 && (owner === me || !pidAlive(owner))) {
        // owner === me: held by a process that died and whose pid we now have (this process
        // never waits for itself: writes are synchronous).
        if (Atomics.compareExchange(i32, WORD.LOCK, owner, me) === owner) return;
      }
      if (attempt > 256) {
        this.waitOrGiveUp(wait, owner, owner, 'locked');
        sleep(0.05);
      }
    }
  }

  // ---- the rest --------------------------------------------------------------------------

  private encodeChecked(value: T, capacity: number): Uint8Array {
    const bytes = this.codec.encode(value);
    if (bytes.byteLength > capacity) {
      throw new FrameTooLargeError(
        `the shared value ${this.name} holds at most ${capacity} bytes (maxBytes); this value encodes to ${bytes.byteLength} bytes`,
      );
    }
    return bytes;
  }

  private decode(bytes: Uint8Array): T {
    const decoded = this.codec.decode(bytes);
    if (E.isLeft(decoded)) throw decoded.left;
    return decoded.right;
  }

  private checkLayout(size: number): void {
    const { i32 } = this;
    const capacity = i32[WORD.CAPACITY]!;
    if (
      Atomics.load(i32, WORD.MAGIC) !== MAGIC ||
      i32[WORD.VERSION] !== VERSION ||
      capacity < 0 ||
      DATA + capacity > size
    ) {
      throw new ShmLayoutError(
        `${this.name} is not an rxipc shared value of version ${VERSION} (or its header contradicts its size of ${size} bytes)`,
      );
    }
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new ShmClosedError(`${what} on the closed shared value ${this.name}`);
  }
}

/** kill(pid, 0): true when the process exists (EPERM: it exists, but is not ours). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
