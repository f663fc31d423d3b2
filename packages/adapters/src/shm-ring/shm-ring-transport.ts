/**
 * The `shm:` transport: two single-producer single-consumer rings in one shared-memory
 * segment (layout.ts), one per direction.
 *
 * Where the hot path lives, and why: in TypeScript, with `Atomics` on an `Int32Array` over the
 * mapping. The mapping's `ArrayBuffer` is an external, non-shared one, but `Atomics` works on
 * any integer typed array (only `Atomics.wait` needs a SharedArrayBuffer, and the sleeping is
 * done by a native futex waiter anyway), and V8 compiles `Atomics.load/store/exchange` to the
 * same locked instructions either way. Measured on the bench machine, per 64-byte message:
 * reading a batch in TypeScript (one copy of the batch, then a view per message) 29 ns, against
 * 170 ns for one native call that copies a batch and builds the views through Node-API;
 * writing in TypeScript (length word + `Uint8Array.set`) 36-41 ns, against 73 ns for a native
 * call that walks an array of messages. Node-API's per-object cost is the difference. So
 * native code here is only what has to be: the mapping, the futex waiter thread, FUTEX_WAKE.
 */
import { type Binding, native as defaultBinding, type WaiterHandle } from '@rxipc/native';

import { END, type MessageTransport } from '../channel/transport.js';
import { FrameTooLargeError } from '../errors.js';
import { typedArraySet } from '../internal/typed-array-set.js';
import { PeerDiedError, RingCorruptError } from '../shm/errors.js';
import {
  DATA_OFFSET,
  RING,
  recordSize,
  ringOffset,
  SIDE,
  SIDE_STATE,
  sideOffset,
  WRAP,
} from './layout.js';
import { openRingSegment, type RingSegment, type RingSegmentOptions } from './ring-segment.js';

/** How the ring transport behaves beyond the segment itself. */
export interface ShmRingTransportOptions {
  /**
   * Deliver messages of at least `zeroCopyMinSize` bytes as views into the ring instead of
   * copies. Such a view is valid while the subscriber's `next` runs: the ring space is
   * released (and the view detached, `byteLength` 0) before the next message is read.
   */
  readonly zeroCopy: boolean;
  readonly zeroCopyMinSize: number;
  /**
   * Microseconds a reader that finds the ring empty polls it on the event loop before it goes
   * to sleep on the futex. 0 (the default) sleeps at once: spinning only pays when both
   * processes have a CPU of their own, and blocks the event loop while it lasts.
   */
  readonly spinMicros: number;
  /** How often a side that waits for its peer checks that the peer is still alive (ms). */
  readonly livenessMs: number;
}

/** Batches of small messages are copied out in one go, at most this many bytes... */
const BATCH_BYTES = 64 * 1024;
/** ...and at most this many messages. */
const BATCH_MESSAGES = 2048;
/** A message this large is copied on its own, into a buffer of its own. */
export const COPY_ALONE = 32 * 1024;
/**
 * How full the ring gets before a sleeping reader that shares the writer's CPU is woken at
 * once (a reader that sleeps while the ring fills is time lost when the reader is the slower
 * side): an eighth of it, and at most READER_WAKE_BYTES, so that what the writer wrote is still
 * in the CPU's cache when the reader copies it out (measured with 64-byte messages in an
 * 8 MiB ring: 6% more messages per second than waking at 1 MiB). A reader on another CPU is
 * woken at once: it can run while the writer goes on.
 */
const READER_WAKE_FRACTION = 1 / 8;
const READER_WAKE_BYTES = 256 * 1024;
/** ...and how empty before a writer waiting for room is (the writer then refills in bulk). */
const WRITER_WAKE_FRACTION = 1 / 2;

/**
 * Opens (creating or joining) the ring segment and returns its transport: at once, or a
 * promise when joining has to wait for the creator to finish the segment (see
 * `openRingSegment`).
 */
export function shmRingTransport(
  segmentOptions: RingSegmentOptions,
  options: ShmRingTransportOptions,
  binding: Binding = defaultBinding,
): MessageTransport | Promise<MessageTransport> {
  const transportOn = (segment: RingSegment): MessageTransport => {
    try {
      return new ShmRingTransport(segment, options, binding);
    } catch (error) {
      segment.close();
      throw error;
    }
  };
  const segment = openRingSegment(segmentOptions, binding);
  return segment instanceof Promise ? segment.then(transportOn) : transportOn(segment);
}

class ShmRingTransport implements MessageTransport {
  readonly maxMessageSize: number;

  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly capacity: number;
  private readonly twoCapacity: number;
  /** Bytes in the ring at which a sleeping reader on our CPU is woken at once. */
  private readonly readerWakeBytes: number;

  // Outbound ring (ours to write): word indexes and state.
  private readonly outBase: number; // byte offset of its data
  private readonly outHead: number;
  private readonly outClosed: number;
  private readonly outTail: number;
  private readonly outReaderSleeping: number; // word index
  private readonly outReaderSleepingOffset: number; // byte offset, for futexWake
  private readonly outWriterSleeping: number;
  private readonly outWriterSleepingOffset: number;
  private head: number;
  private free: number;
  private needBytes = 0;

  // Inbound ring (ours to read).
  private readonly inBase: number;
  private readonly inHead: number;
  private readonly inClosed: number;
  private readonly inTail: number;
  private readonly inReaderSleeping: number;
  private readonly inReaderSleepingOffset: number;
  private readonly inWriterSleeping: number;
  private readonly inWriterSleepingOffset: number;
  private tail: number;

  // Where the sides run (SIDE.CPU words, 1 + the CPU): the wake-up policy.
  private readonly ownCpu: number;
  private readonly peerCpu: number;

  // The current batch of copied messages.
  private batch: ArrayBuffer | undefined;
  private batchBase = 0;
  private batchIndex = 0;
  private batchCount = 0;
  private readonly offsets = new Int32Array(BATCH_MESSAGES);
  private readonly lengths = new Int32Array(BATCH_MESSAGES);

  // A zero-copy message lent to the subscriber, and where the tail goes once it is back.
  private borrowed: ArrayBuffer | undefined;
  private borrowedTail = 0;

  // Waiting.
  private onReadable: (() => void) | null = null;
  private onWritable: (() => void) | null = null;
  private readWaiter: WaiterHandle | undefined;
  private writeWaiter: WaiterHandle | undefined;
  private readSleeping = false;
  private writeSleeping = false;
  private readFireScheduled = false;
  private spinScheduled = false;
  private readerWakeScheduled = false;
  private writerWakeScheduled = false;
  private writeFireScheduled = false;
  private lastLivenessCheck = 0;
  private peerFailure: Error | undefined;
  private failure: unknown;
  private closed = false;
  private writeEnded = false;

  constructor(
    private readonly segment: RingSegment,
    private readonly options: ShmRingTransportOptions,
    private readonly binding: Binding,
  ) {
    const { i32, u8, geometry, side } = segment;
    this.i32 = i32;
    this.u8 = u8;
    this.capacity = geometry.capacity;
    this.twoCapacity = 2 * geometry.capacity;
    this.readerWakeBytes = Math.min(geometry.capacity * READER_WAKE_FRACTION, READER_WAKE_BYTES);
    this.maxMessageSize = geometry.slotSize;

    const out = ringOffset(side);
    this.outBase = DATA_OFFSET + side * geometry.capacity;
    this.outHead = (out + RING.HEAD) >> 2;
    this.outClosed = (out + RING.CLOSED) >> 2;
    this.outTail = (out + RING.TAIL) >> 2;
    this.outReaderSleepingOffset = out + RING.READER_SLEEPING;
    this.outReaderSleeping = this.outReaderSleepingOffset >> 2;
    this.outWriterSleepingOffset = out + RING.WRITER_SLEEPING;
    this.outWriterSleeping = this.outWriterSleepingOffset >> 2;

    const inbound = ringOffset(1 - side);
    this.inBase = DATA_OFFSET + (1 - side) * geometry.capacity;
    this.inHead = (inbound + RING.HEAD) >> 2;
    this.inClosed = (inbound + RING.CLOSED) >> 2;
    this.inTail = (inbound + RING.TAIL) >> 2;
    this.inReaderSleepingOffset = inbound + RING.READER_SLEEPING;
    this.inReaderSleeping = this.inReaderSleepingOffset >> 2;
    this.inWriterSleepingOffset = inbound + RING.WRITER_SLEEPING;
    this.inWriterSleeping = this.inWriterSleepingOffset >> 2;

    this.ownCpu = (sideOffset(side) + SIDE.CPU) >> 2;
    this.peerCpu = (sideOffset(1 - side) + SIDE.CPU) >> 2;

    // A side may join a ring its peer has already written to: take the positions as found.
    this.head = Atomics.load(i32, this.outHead);
    this.free = this.freeSpace(this.head);
    this.tail = Atomics.load(i32, this.inTail);
  }

  check(message: Uint8Array): void {
    if (message.length > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a message of ${message.length} bytes does not fit the ring ${this.segment.name}, whose slots hold ${this.maxMessageSize} bytes (slotSize)`,
      );
    }
  }

  // ---- reading --------------------------------------------------------------------------

  receive(): Uint8Array | null | typeof END {
    if (this.borrowed !== undefined) this.giveBack();
    if (this.batchIndex < this.batchCount) {
      const i = this.batchIndex++;
      return new Uint8Array(this.batch!, this.batchBase + this.offsets[i]!, this.lengths[i]);
    }
    return this.fetch();
  }

  /** Takes the next records out of the ring: a batch of small ones, or one large one. */
  private fetch(): Uint8Array | null | typeof END {
    if (this.failure !== undefined) throw this.failure;
    const { i32, capacity } = this;
    // CLOSED before HEAD: records published before CLOSED are seen.
    const closed = Atomics.load(i32, this.inClosed);
    const head = Atomics.load(i32, this.inHead);
    let tail = this.tail;
    if (head === tail) {
      if (closed !== 0) return END;
      if (this.peerFailure !== undefined) throw this.peerFailure;
      return null;
    }
    let available = head - tail;
    if (available < 0) available += this.twoCapacity;
    if (available > capacity || (available & 7) !== 0 || head < 0 || head >= this.twoCapacity) {
      return this.corrupt(`head ${head} and tail ${tail}`);
    }
    let index = tail >= capacity ? tail - capacity : tail;
    const base = this.inBase;
    let length = i32[(base + index) >> 2]!;
    if (length === WRAP) {
      const skip = capacity - index;
      if (skip >= available) return this.corrupt(`a wrap marker at the end of the data`);
      tail = this.advance(tail, skip);
      available -= skip;
      index = 0;
      length = i32[base >> 2]!;
    }
    if (length < 0 || length > this.maxMessageSize) return this.corrupt(`a record of ${length}`);
    const first = recordSize(length);
    if (first > available || index + first > capacity) {
      return this.corrupt(`a record of ${length} bytes beyond the data`);
    }

    if (this.options.zeroCopy && length >= this.options.zeroCopyMinSize) {
      const view = this.binding.shmBuffer(this.segment.mapping, base + index + 4, length);
      this.borrowed = view;
      this.borrowedTail = this.advance(tail, first);
      this.publishTail(tail);
      return new Uint8Array(view);
    }
    if (length >= COPY_ALONE) {
      // Natively: a copy as large as the CPU's L2 cache goes around the cache (shmCopyOut).
      const copy = this.binding.shmCopyOut(this.segment.mapping, base + index + 4, length);
      this.publishTail(this.advance(tail, first));
      return new Uint8Array(copy.buffer, copy.byteOffset, length);
    }

    // A batch: records in a row up to the end of the data, a wrap, a large one, or the limits.
    const start = index;
    let count = 0;
    let bytes = 0;
    let record = first;
    for (;;) {
      this.offsets[count] = bytes + 4;
      this.lengths[count] = length;
      count++;
      bytes += record;
      index += record;
      available -= record;
      if (
        available === 0 ||
        index === capacity ||
        count === BATCH_MESSAGES ||
        bytes >= BATCH_BYTES
      ) {
        break;
      }
      length = i32[(base + index) >> 2]!;
      if (length === WRAP || length >= COPY_ALONE) break;
      if (length < 0 || length > this.maxMessageSize) return this.corrupt(`a record of ${length}`);
      if (this.options.zeroCopy && length >= this.options.zeroCopyMinSize) break;
      record = recordSize(length);
      if (record > available || index + record > capacity) {
        return this.corrupt(`a record of ${length} bytes beyond the data`);
      }
    }
    const copy = Buffer.allocUnsafe(bytes);
    copy.set(this.u8.subarray(base + start, base + start + bytes));
    this.publishTail(this.advance(tail, bytes));
    this.batch = copy.buffer;
    this.batchBase = copy.byteOffset;
    this.batchCount = count;
    this.batchIndex = 1;
    return new Uint8Array(this.batch, this.batchBase + this.offsets[0]!, this.lengths[0]);
  }

  /** A position `bytes` further on, modulo 2 x capacity. */
  private advance(position: number, bytes: number): number {
    const next = position + bytes;
    return next >= this.twoCapacity ? next - this.twoCapacity : next;
  }

  /** Whether a `receive` now would return something other than `null`. */
  private readable(): boolean {
    return (
      this.batchIndex < this.batchCount ||
      Atomics.load(this.i32, this.inHead) !== this.tail ||
      Atomics.load(this.i32, this.inClosed) !== 0 ||
      this.peerFailure !== undefined ||
      this.failure !== undefined
    );
  }

  private publishTail(tail: number): void {
    this.tail = tail;
    Atomics.store(this.i32, this.inTail, tail);
    this.wakeWriter();
  }

  /** Returns a lent zero-copy message: detaches its view and frees its ring space. */
  private giveBack(): void {
    const view = this.borrowed!;
    this.borrowed = undefined;
    this.binding.shmRelease(this.segment.mapping, view);
    this.publishTail(this.borrowedTail);
  }

  private corrupt(what: string): never {
    this.failure = new RingCorruptError(
      `the ring ${this.segment.name} is corrupt (${what}): something wrote its memory without following the ring protocol`,
    );
    throw this.failure;
  }

  watchReadable(callback: (() => void) | null): void {
    this.onReadable = callback;
    if (callback !== null) {
      this.prepareReadSleep();
      return;
    }
    // The subscriber is done with a lent message once it stops asking for more.
    if (this.borrowed !== undefined) this.giveBack();
    if (this.readSleeping) {
      // Nobody wants messages: let the thread go (and with it the event loop's reference).
      this.readSleeping = false;
      Atomics.store(this.i32, this.inReaderSleeping, 0);
      this.binding.waiterClose(this.readWaiter!);
      this.readWaiter = undefined;
    }
  }

  /** The reader side of the sleeping protocol (layout.ts), after an optional spin. */
  private prepareReadSleep(): void {
    if (this.readSleeping || this.closed || this.spinScheduled) return;
    if (this.options.spinMicros > 0) {
      // On a microtask, so that what the subscriber just sent (a reply, flushed on an earlier
      // microtask) goes out before this process spins.
      this.spinScheduled = true;
      queueMicrotask(this.spinThenSleep);
      return;
    }
    this.sleep();
  }

  private readonly spinThenSleep = (): void => {
    this.spinScheduled = false;
    if (this.readSleeping || this.closed || this.onReadable === null) return;
    // Wake-ups deferred to the end of this loop turn cannot wait for a spin that blocks it:
    // the peer may be asleep until then, and its answer is what this spin waits for.
    if (this.readerWakeScheduled) this.wakeReaderNow();
    if (this.writerWakeScheduled) this.wakeWriterNow();
    const until = performance.now() + this.options.spinMicros / 1000;
    do {
      if (this.readable()) return this.fireReadableSoon();
    } while (performance.now() < until);
    this.sleep();
  };

  private sleep(): void {
    Atomics.store(this.i32, this.ownCpu, this.binding.currentCpu() + 1);
    Atomics.store(this.i32, this.inReaderSleeping, 1);
    if (this.readable()) {
      Atomics.store(this.i32, this.inReaderSleeping, 0);
      this.fireReadableSoon();
      return;
    }
    this.readSleeping = true;
    if (this.readWaiter === undefined) {
      this.readWaiter = this.binding.futexWaiter(
        this.segment.mapping,
        this.inReaderSleepingOffset,
        1,
        this.onReadWake,
        { timeoutMs: this.options.livenessMs },
      );
    } else {
      this.binding.futexWaiterArm(this.readWaiter, 1);
    }
  }

  private readonly onReadWake = (error: Error | null): void => {
    this.readSleeping = false;
    if (this.closed) return;
    // Awake: a writer need not call FUTEX_WAKE now (after a timeout the flag is still 1).
    Atomics.store(this.i32, this.inReaderSleeping, 0);
    if (error !== null) this.failure = error;
    else this.checkPeer();
    this.fireReadable();
  };

  private fireReadableSoon(): void {
    if (this.readFireScheduled) return;
    this.readFireScheduled = true;
    queueMicrotask(() => {
      this.readFireScheduled = false;
      this.fireReadable();
    });
  }

  /** Level-triggered: calls the callback, then sleeps again if it still wants messages. */
  private fireReadable(): void {
    const callback = this.onReadable;
    if (callback === null || this.closed) return;
    callback();
    if (this.onReadable !== null) this.prepareReadSleep();
  }

  // ---- writing --------------------------------------------------------------------------

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (this.failure !== undefined) throw this.failure;
    this.checkReaderThere();
    const { i32, u8, capacity, twoCapacity } = this;
    const base = this.outBase;
    let head = this.head;
    let free = this.free;
    let i = start;
    for (; i < end; i++) {
      const message = messages[i]!;
      const length = message.length;
      const record = (length + 11) & ~7;
      let index = head >= capacity ? head - capacity : head;
      const toEnd = capacity - index;
      const need = record <= toEnd ? record : toEnd + record;
      if (need > free) {
        free = this.freeSpace(head);
        if (need > free) {
          this.needBytes = need;
          break;
        }
      }
      if (record > toEnd) {
        i32[(base + index) >> 2] = WRAP;
        head += toEnd;
        if (head >= twoCapacity) head -= twoCapacity;
        index = 0;
      }
      i32[(base + index) >> 2] = length;
      if (length > 0) typedArraySet.call(u8, message, base + index + 4);
      head += record;
      if (head >= twoCapacity) head -= twoCapacity;
      free -= need;
      if (length >= COPY_ALONE && i + 1 < end) {
        // A large message is published at once: the reader can copy it out while we copy
        // in the next one.
        this.head = head;
        Atomics.store(i32, this.outHead, head);
        this.wakeReader();
      }
    }
    this.free = free;
    if (i > start) {
      this.head = head;
      Atomics.store(i32, this.outHead, head);
      this.wakeReader();
    }
    return i - start;
  }

  private freeSpace(head: number): number {
    let used = head - Atomics.load(this.i32, this.outTail);
    if (used < 0) used += this.twoCapacity;
    return this.capacity - used;
  }

  /** A closed or dead reader makes sending an error, as a pipe without a reader does. */
  private checkReaderThere(): void {
    if (this.peerFailure !== undefined) throw this.peerFailure;
    if (this.segment.peerState() === SIDE_STATE.LEFT) {
      throw this.binding.systemError(
        32, // EPIPE
        'shm-ring',
        this.segment.name,
        'the other side of the ring has closed; nobody will read this',
      );
    }
  }

  private writable(): boolean {
    return (
      this.freeSpace(this.head) >= this.needBytes ||
      this.segment.peerState() === SIDE_STATE.LEFT ||
      this.peerFailure !== undefined ||
      this.failure !== undefined
    );
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    if (callback !== null) {
      this.prepareWriteSleep();
      return;
    }
    if (this.writeSleeping) {
      this.writeSleeping = false;
      Atomics.store(this.i32, this.outWriterSleeping, 0);
      this.binding.waiterClose(this.writeWaiter!);
      this.writeWaiter = undefined;
    }
  }

  private prepareWriteSleep(): void {
    if (this.writeSleeping || this.closed) return;
    Atomics.store(this.i32, this.outWriterSleeping, 1);
    if (this.writable()) {
      Atomics.store(this.i32, this.outWriterSleeping, 0);
      this.fireWritableSoon();
      return;
    }
    this.writeSleeping = true;
    if (this.writeWaiter === undefined) {
      this.writeWaiter = this.binding.futexWaiter(
        this.segment.mapping,
        this.outWriterSleepingOffset,
        1,
        this.onWriteWake,
        { timeoutMs: this.options.livenessMs },
      );
    } else {
      this.binding.futexWaiterArm(this.writeWaiter, 1);
    }
  }

  private readonly onWriteWake = (error: Error | null): void => {
    this.writeSleeping = false;
    if (this.closed) return;
    Atomics.store(this.i32, this.outWriterSleeping, 0);
    if (error !== null) this.failure = error;
    else this.checkPeer();
    this.fireWritable();
  };

  private fireWritableSoon(): void {
    if (this.writeFireScheduled) return;
    this.writeFireScheduled = true;
    queueMicrotask(() => {
      this.writeFireScheduled = false;
      this.fireWritable();
    });
  }

  private fireWritable(): void {
    const callback = this.onWritable;
    if (callback === null || this.closed) return;
    callback();
    if (this.onWritable !== null) this.prepareWriteSleep();
  }

  endWrite(): void {
    if (this.writeEnded || this.closed) return;
    this.writeEnded = true;
    Atomics.store(this.i32, this.outClosed, 1);
    this.wakeReader(true);
  }

  // ---- both ------------------------------------------------------------------------------

  /**
   * Wakes a sleeping reader: at once when it runs on another CPU (it can work while we go on)
   * or the ring holds at least `readerWakeBytes`, else once this turn of the event loop
   * is over (setImmediate). Waking a reader that shares our CPU for every small publication
   * makes the two processes trade the CPU back and forth each time, at a few microseconds per
   * switch (measured: half the throughput); deferring lets a producer that is still running
   * fill a good part of the ring first, while a lone message still goes out within the same
   * loop turn.
   */
  private wakeReader(urgent = false): void {
    if (Atomics.load(this.i32, this.outReaderSleeping) === 0) return;
    if (urgent || this.capacity - this.free >= this.readerWakeBytes || this.peerElsewhere()) {
      this.wakeReaderNow();
    } else if (!this.readerWakeScheduled) {
      this.readerWakeScheduled = true;
      setImmediate(this.deferredWakeReader);
    }
  }

  /** Whether the peer's reader went to sleep on a CPU other than the one we run on. */
  private peerElsewhere(): boolean {
    const peer = Atomics.load(this.i32, this.peerCpu);
    return peer !== 0 && peer !== this.binding.currentCpu() + 1;
  }

  private readonly deferredWakeReader = (): void => {
    this.readerWakeScheduled = false;
    if (!this.closed) this.wakeReaderNow();
  };

  private wakeReaderNow(): void {
    if (Atomics.exchange(this.i32, this.outReaderSleeping, 0) !== 0) {
      this.binding.futexWake(this.segment.mapping, this.outReaderSleepingOffset, 1);
    }
  }

  /** Wakes a writer waiting for room: at once when a good part of the ring is free (as above). */
  private wakeWriter(urgent = false): void {
    if (Atomics.load(this.i32, this.inWriterSleeping) === 0) return;
    let used = Atomics.load(this.i32, this.inHead) - this.tail;
    if (used < 0) used += this.twoCapacity;
    if (urgent || this.capacity - used >= this.capacity * WRITER_WAKE_FRACTION) {
      this.wakeWriterNow();
    } else if (!this.writerWakeScheduled) {
      this.writerWakeScheduled = true;
      setImmediate(this.deferredWakeWriter);
    }
  }

  private readonly deferredWakeWriter = (): void => {
    this.writerWakeScheduled = false;
    if (!this.closed) this.wakeWriterNow();
  };

  private wakeWriterNow(): void {
    if (Atomics.exchange(this.i32, this.inWriterSleeping, 0) !== 0) {
      this.binding.futexWake(this.segment.mapping, this.inWriterSleepingOffset, 1);
    }
  }

  /** At most every `livenessMs`: is the peer still alive? A dead one fails both directions. */
  private checkPeer(): void {
    const now = Date.now();
    if (this.peerFailure !== undefined || now - this.lastLivenessCheck < this.options.livenessMs) {
      return;
    }
    this.lastLivenessCheck = now;
    if (this.segment.peerStatus() !== 'dead') return;
    const pid = this.segment.peerPid();
    this.peerFailure = new PeerDiedError(
      `the process on the other side of the ring ${this.segment.name} (pid ${pid}) died without closing it; what it had sent was delivered, a message it was writing is lost`,
      pid,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // Before unmapping: the peer's reader must see end of stream, and the peer's writer
      // (perhaps asleep waiting for room in our inbound ring) must wake up to find us gone.
      if (!this.writeEnded) {
        this.writeEnded = true;
        Atomics.store(this.i32, this.outClosed, 1);
      }
      this.segment.leave();
      this.wakeReader(true);
      this.wakeWriter(true);
    } finally {
      // Unmapping closes our waiters (their threads are joined) and detaches lent views.
      this.segment.close();
      this.readWaiter = undefined;
      this.writeWaiter = undefined;
      this.batch = undefined;
      this.borrowed = undefined;
    }
  }
}
