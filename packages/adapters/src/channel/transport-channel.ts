import * as E from 'fp-ts/lib/Either.js';
import { Observable, type Subscriber } from 'rxjs';

import type { Codec } from '../codecs/codec.js';
import { rawCodec } from '../codecs/raw.js';
import { ChannelClosedError, OverflowError } from '../errors.js';
import { currentValve, type Valve } from '../flow/valve.js';
import { toAsyncIterator } from '../flow/to-async-iterator.js';
import { isPromiseLike } from '../internal/promise-like.js';
import type { Channel, ChannelOptions, ChannelStats, OverflowPolicy } from './channel.js';
import { END, type MessageTransport } from './transport.js';

const DEFAULT_HIGH_WATER_MARK = 1024;
const DEFAULT_BATCH = 4096;

interface Reader {
  readonly subscriber: Subscriber<unknown>;
  readonly valve: Valve | undefined;
  stopListening: () => void;
}

interface Settler {
  resolve(): void;
  reject(error: unknown): void;
}

/** A `send` waiting for its message to be accepted: `seq` numbers messages as queued. */
interface PendingSettler {
  seq: number;
  readonly settler: Settler;
}

/**
 * Builds a {@link Channel} on a {@link MessageTransport}. The transport is opened by `open`
 * on first use (a subscription or a send), so nothing touches the kernel before it is needed.
 *
 * Buffers: the outbound queue holds at most `highWaterMark` messages from `next`; `send`
 * calls past that wait in a FIFO (each holds its own message until there is room). Inbound,
 * nothing is buffered: a message goes from the transport to the subscribers at once.
 *
 * The per-message path is kept short, because for the shared-memory ring it is most of the
 * cost: readers are a copy-on-write array (and demand is one comparison unless a reader has a
 * valve), and only `send` calls record a settler (`next` pushes the message and nothing else).
 *
 * `open` may return the transport or a promise of it (a ring joiner waiting for its creator to
 * finish). While that promise is pending the channel works as if the transport were full:
 * `next` and `send` queue (the same `highWaterMark` and `overflow` rules), subscribers attach
 * and start receiving once it is open, `complete` takes effect then. The transport's `check`
 * needs the transport (a joiner learns the ring's slot size from the segment), so messages
 * queued while opening are encoded at once (a codec error is reported at the call, as usual)
 * and checked when the transport arrives, in queue order: a `send` whose message fails is
 * rejected with the check's error and its message is not sent; a `next` whose message fails
 * fails the channel, as a failing `next` does at any other time. If opening fails, pending
 * sends reject and subscribers error with that error (and the channel fails, if `next` had
 * queued messages); otherwise a later use tries to open again, as after a synchronous throw.
 *
 * `open` is given an `AbortSignal`, made once per open (in `startOpen`, off the per-message
 * path). `close()` while the promise is pending aborts it, with a `ChannelClosedError` as
 * reason, and then waits for the promise: an opener that honours the signal stops waiting at
 * once, releases whatever it had opened and rejects, so `close()` resolves promptly; an opener
 * that ignores it is waited for, and the transport it delivers is closed. Either way nothing
 * it opened is left behind. The signal is never aborted for a synchronous open, nor once the
 * transport has arrived (closing it is then the transport's `close`).
 */
export function transportChannel<In = Uint8Array, Out = In>(
  open: (signal: AbortSignal) => MessageTransport | Promise<MessageTransport>,
  options: ChannelOptions<In, Out> = {},
): Channel<In, Out> {
  return new TransportChannel<In, Out>(open, options);
}

class TransportChannel<In, Out> extends Observable<In> implements Channel<In, Out> {
  private transport: MessageTransport | undefined;
  /** The pending result of `openTransport`, while it is a promise. */
  private opening: PromiseLike<MessageTransport> | undefined;
  /** Aborts the signal `opening`'s opener was given (by `close()`, while opening). */
  private abortOpening: AbortController | undefined;
  private closing: Promise<void> | undefined;
  private readonly codec: Codec<unknown>;
  readonly highWaterMark: number;
  private readonly overflow: OverflowPolicy;
  private readonly skipUndecodable: boolean;
  private readonly batch: number;

  // Inbound. Replaced, never mutated, so that delivering can iterate it while readers leave.
  private readers: readonly Reader[] = [];
  /** How many readers have a valve (when none has, demand is just "someone listens"). */
  private valved = 0;
  private inboundEnd: { error?: unknown } | undefined;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  private watchingReadable = false;

  // Outbound.
  /**
   * Messages `[head, tail)` wait for the transport. The array is reused (emptied by clearing its
   * slots, not replaced), so that storing into it stays an inlined store on the hot path.
   */
  private queue: Uint8Array[] = [];
  private tail = 0;
  private head = 0;
  /** Messages accepted by the transport so far: the `seq` of the queue's head. */
  private acceptedSeq = 0;
  /** The settlers of `send` calls whose messages are queued, in queue order. */
  private settlers: PendingSettler[] = [];
  private settlersHead = 0;
  private readonly waitingSends: { message: Uint8Array; settler: Settler }[] = [];
  private readonly readyWaiters: (() => void)[] = [];
  private flushScheduled = false;
  private watchingWritable = false;
  private ending = false;
  private writeEnded = false;
  private failure: unknown;

  private counts = { received: 0, sent: 0, dropped: 0, undecodable: 0 };

  constructor(
    private readonly openTransport: (
      signal: AbortSignal,
    ) => MessageTransport | Promise<MessageTransport>,
    options: ChannelOptions<In, Out>,
  ) {
    super((subscriber) => this.attach(subscriber as Subscriber<unknown>));
    this.codec = (options.codec ?? rawCodec) as Codec<unknown>;
    this.highWaterMark = positiveInteger(
      options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      'highWaterMark',
    );
    this.overflow = options.overflow ?? 'error';
    this.skipUndecodable = options.onDecodeError === 'skip';
    this.batch = positiveInteger(options.batch ?? DEFAULT_BATCH, 'batch');
  }

  /** Messages not yet accepted by the kernel: queued ones and `send` calls waiting for room. */
  get pending(): number {
    return this.tail - this.head + this.waitingSends.length;
  }

  private get queued(): number {
    return this.tail - this.head;
  }

  get stats(): ChannelStats {
    return { ...this.counts };
  }

  // ---- inbound ---------------------------------------------------------------------------

  private attach(subscriber: Subscriber<unknown>): () => void {
    if (this.inboundEnd !== undefined) {
      this.deliverEnd(subscriber, this.inboundEnd);
      return () => {};
    }
    if (this.closing !== undefined) {
      subscriber.complete();
      return () => {};
    }
    const reader: Reader = { subscriber, valve: currentValve(), stopListening: () => {} };
    if (reader.valve !== undefined)
      reader.stopListening = reader.valve.onOpen(() => this.schedulePump());
    this.addReader(reader);
    try {
      this.ensureOpen();
    } catch (error) {
      this.removeReader(reader);
      subscriber.error(error);
      return () => {};
    }
    this.schedulePump();
    return () => {
      this.removeReader(reader);
      if (this.readers.length === 0) this.setWatchReadable(false);
    };
  }

  private addReader(reader: Reader): void {
    this.readers = [...this.readers, reader];
    if (reader.valve !== undefined) this.valved++;
  }

  private removeReader(reader: Reader): void {
    const index = this.readers.indexOf(reader);
    if (index < 0) return;
    reader.stopListening();
    this.readers = this.readers.filter((other) => other !== reader);
    if (reader.valve !== undefined) this.valved--;
  }

  private hasDemand(): boolean {
    const readers = this.readers;
    if (readers.length === 0) return false;
    if (this.valved === 0) return true;
    for (const reader of readers)
      if (reader.valve !== undefined && !reader.valve.open) return false;
    return true;
  }

  private schedulePump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private readonly onReadable = (): void => this.pump();

  /** Delivers up to `batch` messages while there is demand; then waits for the kernel or yields. */
  private pump(): void {
    if (this.pumping || this.inboundEnd !== undefined || this.transport === undefined) return;
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpBatch();
      } while (this.pumpAgain && this.inboundEnd === undefined && this.transport !== undefined);
    } finally {
      this.pumping = false;
    }
  }

  private pumpBatch(): void {
    const transport = this.transport!;
    for (let delivered = 0; delivered < this.batch; delivered++) {
      if (!this.hasDemand() || this.closing !== undefined) {
        this.setWatchReadable(false);
        return;
      }
      let message: Uint8Array | null | typeof END;
      try {
        message = transport.receive();
      } catch (error) {
        this.endInbound({ error });
        return;
      }
      if (message === null) {
        this.setWatchReadable(true);
        return;
      }
      if (message === END) {
        this.endInbound({});
        return;
      }
      this.counts.received++;
      this.emit(message);
    }
    // The batch is used up: let the loop run, then go on (frames may remain in user space,
    // where the kernel's readiness would not wake us).
    this.setWatchReadable(false);
    setImmediate(() => this.pump());
  }

  private emit(bytes: Uint8Array): void {
    let value: unknown = bytes;
    if (this.codec !== rawCodec) {
      const decoded = this.codec.decode(bytes);
      if (E.isLeft(decoded)) {
        if (this.skipUndecodable) {
          this.counts.undecodable++;
          return;
        }
        this.endInbound({ error: decoded.left });
        return;
      }
      value = decoded.right;
    }
    const readers = this.readers;
    if (readers.length === 1) readers[0]!.subscriber.next(value);
    else for (const reader of readers) reader.subscriber.next(value);
  }

  private setWatchReadable(on: boolean): void {
    if (on === this.watchingReadable || this.transport === undefined) return;
    this.watchingReadable = on;
    this.transport.watchReadable(on ? this.onReadable : null);
  }

  private endInbound(end: { error?: unknown }): void {
    if (this.inboundEnd !== undefined) return;
    this.inboundEnd = end;
    this.setWatchReadable(false);
    const readers = this.readers;
    this.readers = [];
    this.valved = 0;
    for (const reader of readers) {
      reader.stopListening();
      this.deliverEnd(reader.subscriber, end);
    }
  }

  private deliverEnd(subscriber: Subscriber<unknown>, end: { error?: unknown }): void {
    if ('error' in end) subscriber.error(end.error);
    else subscriber.complete();
  }

  // ---- outbound --------------------------------------------------------------------------

  next(value: Out): void {
    if (this.ending || this.closing !== undefined || this.failure !== undefined) return;
    let message: Uint8Array;
    try {
      this.ensureOpen();
      message = this.encode(value);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.pending >= this.highWaterMark) {
      switch (this.overflow) {
        case 'drop-newest':
          this.counts.dropped++;
          return;
        case 'drop-oldest':
          if (this.dropOldest()) break;
          this.counts.dropped++;
          return;
        default:
          this.fail(
            new OverflowError(
              `${this.pending} messages are already waiting for the kernel (highWaterMark ${this.highWaterMark}); await send() or ready(), or choose another overflow policy`,
            ),
          );
          return;
      }
    }
    this.enqueue(message);
  }

  send(value: Out): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(new ChannelClosedError('send() on a closed channel'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ending) return Promise.reject(new ChannelClosedError('send() after complete()'));
    let message: Uint8Array;
    try {
      this.ensureOpen();
      message = this.encode(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const settler = { resolve, reject };
      if (this.queued >= this.highWaterMark || this.waitingSends.length > 0) {
        this.waitingSends.push({ message, settler });
      } else {
        this.settleWhenAccepted(settler);
        this.enqueue(message);
      }
    });
  }

  ready(): Promise<void> {
    if (
      this.pending < this.highWaterMark ||
      this.closing !== undefined ||
      this.failure !== undefined
    ) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  error(error: unknown): void {
    if (this.ending || this.closing !== undefined) return;
    this.ending = true;
    this.rejectPending(error);
    this.endWrite();
  }

  complete(): void {
    if (this.ending || this.closing !== undefined) return;
    this.ending = true;
    if (this.pending === 0 && this.waitingSends.length === 0) this.endWrite();
  }

  /**
   * Encodes and checks a message. While the transport is still opening (callers have started
   * it), the check waits for it: see `checkQueued`.
   */
  private encode(value: Out): Uint8Array {
    const message = this.codec.encode(value);
    // Transports read `length` (V8 inlines it; `byteLength` is a call): a plugin codec that
    // returns something else than bytes is caught here (the raw codec checks its input itself).
    if (this.codec !== rawCodec && !(message instanceof Uint8Array)) {
      throw new TypeError(
        `the ${this.codec.name} codec returned ${Object.prototype.toString.call(message)}, not a Uint8Array`,
      );
    }
    const transport = this.transport;
    if (transport !== undefined) transport.check(message);
    return message;
  }

  /** Resolves `settler` once the message about to be queued is accepted. */
  private settleWhenAccepted(settler: Settler): void {
    this.settlers.push({ seq: this.acceptedSeq + this.queued, settler });
  }

  private enqueue(message: Uint8Array): void {
    this.queue[this.tail++] = message;
    if (!this.flushScheduled && !this.watchingWritable) {
      this.flushScheduled = true;
      // Coalesce every message queued in this tick into as few writes as possible.
      queueMicrotask(this.flush);
    }
  }

  private dropOldest(): boolean {
    // Only a message that has not been started may go: the transport may hold part of the head.
    const victim = this.head + 1;
    if (victim >= this.tail) return false;
    const seq = this.acceptedSeq + 1;
    this.queue.copyWithin(victim, victim + 1, this.tail);
    this.clearSlots(this.tail - 1, this.tail);
    this.tail--;
    // Later messages move up one place; a send() whose message this was is rejected.
    for (let i = this.settlersHead; i < this.settlers.length; i++) {
      const pending = this.settlers[i]!;
      if (pending.seq === seq) {
        this.settlers.splice(i, 1);
        i--;
        pending.settler.reject(new OverflowError('dropped by the drop-oldest overflow policy'));
      } else if (pending.seq > seq) {
        pending.seq--;
      }
    }
    this.counts.dropped++;
    return true;
  }

  private readonly onWritable = (): void => this.flush();

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const transport = this.transport;
    if (transport === undefined || this.closing !== undefined || this.failure !== undefined) return;
    try {
      while (this.queued > 0) {
        const accepted = transport.send(this.queue, this.head, this.tail);
        if (accepted === 0) {
          this.setWatchWritable(true);
          return;
        }
        this.accept(accepted);
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    this.setWatchWritable(false);
    if (this.ending && this.waitingSends.length === 0) this.endWrite();
  };

  private accept(count: number): void {
    this.head += count;
    this.acceptedSeq += count;
    this.counts.sent += count;
    if (this.settlersHead < this.settlers.length) this.resolveAccepted();
    if (this.head === this.tail) {
      this.clearSlots(0, this.tail);
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      // Mostly sent: move the rest to the front.
      const rest = this.tail - this.head;
      this.queue.copyWithin(0, this.head, this.tail);
      this.clearSlots(rest, this.tail);
      this.head = 0;
      this.tail = rest;
    }
    while (this.waitingSends.length > 0 && this.queued < this.highWaterMark) {
      const { message, settler } = this.waitingSends.shift()!;
      this.settleWhenAccepted(settler);
      this.queue[this.tail++] = message;
    }
    if (this.pending < this.highWaterMark && this.readyWaiters.length > 0) {
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    }
  }

  /** Lets go of the messages in slots `[from, to)` (they were sent or moved), for the GC. */
  private clearSlots(from: number, to: number): void {
    // The slots are reused: an empty slot holds undefined until the next message goes there.
    (this.queue as (Uint8Array | undefined)[]).fill(undefined, from, to);
  }

  private resolveAccepted(): void {
    const settlers = this.settlers;
    let at = this.settlersHead;
    while (at < settlers.length && settlers[at]!.seq < this.acceptedSeq)
      settlers[at++]!.settler.resolve();
    if (at === settlers.length) {
      this.settlers = [];
      this.settlersHead = 0;
    } else if (at > 1024 && at * 2 > settlers.length) {
      this.settlers = settlers.slice(at);
      this.settlersHead = 0;
    } else {
      this.settlersHead = at;
    }
  }

  private setWatchWritable(on: boolean): void {
    if (on === this.watchingWritable || this.transport === undefined) return;
    this.watchingWritable = on;
    this.transport.watchWritable(on ? this.onWritable : null);
  }

  private endWrite(): void {
    if (this.writeEnded) return;
    this.writeEnded = true;
    this.setWatchWritable(false);
    try {
      this.transport?.endWrite?.();
    } catch (error) {
      this.fail(error);
    }
  }

  /** A failure on the write side: rejects every pending send and errors the subscribers. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.rejectPending(error);
    this.setWatchWritable(false);
    this.endInbound({ error });
  }

  private rejectPending(error: unknown): void {
    const settlers = this.settlers.slice(this.settlersHead);
    const waiting = this.waitingSends.splice(0);
    this.acceptedSeq += this.queued;
    this.queue = [];
    this.tail = 0;
    this.head = 0;
    this.settlers = [];
    this.settlersHead = 0;
    for (const { settler } of settlers) settler.reject(error);
    for (const { settler } of waiting) settler.reject(error);
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  // ---- lifecycle -------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.transport === undefined && this.opening === undefined) this.startOpen();
  }

  /** Off the per-message path (ensureOpen stays small enough to inline). */
  private startOpen(): void {
    if (this.closing !== undefined) throw new ChannelClosedError('the channel is closed');
    const controller = new AbortController();
    const opened = this.openTransport(controller.signal);
    if (!isPromiseLike(opened)) {
      this.transport = opened;
      return;
    }
    this.opening = opened;
    this.abortOpening = controller;
    opened.then(
      (transport) => this.opened(transport),
      (error: unknown) => this.openFailed(error),
    );
  }

  /** An asynchronous open finished: start what was waiting for the transport. */
  private opened(transport: MessageTransport): void {
    this.opening = undefined;
    this.abortOpening = undefined;
    // close() came first: release() has the same promise and closes this transport.
    if (this.closing !== undefined) return;
    this.transport = transport;
    if (this.failure !== undefined) return; // kept only for close() to release
    if (!this.checkQueued(transport)) return;
    if (this.writeEnded) {
      // complete() (or error()) ran while opening, with nothing pending: end the write side now.
      try {
        transport.endWrite?.();
      } catch (error) {
        this.fail(error);
        return;
      }
    }
    if (this.queued > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
    if (this.readers.length > 0) this.schedulePump();
  }

  /**
   * Checks the messages queued while opening, in order (see `transportChannel`). Returns
   * `false` when a `next` message failed, which failed the channel.
   */
  private checkQueued(transport: MessageTransport): boolean {
    const queue = this.queue;
    const settlers = this.settlers;
    const kept: Uint8Array[] = [];
    const keptSettlers: PendingSettler[] = [];
    let s = this.settlersHead;
    for (let i = this.head; i < this.tail; i++) {
      const seq = this.acceptedSeq + (i - this.head);
      const pending = s < settlers.length && settlers[s]!.seq === seq ? settlers[s++] : undefined;
      try {
        transport.check(queue[i]!);
      } catch (error) {
        if (pending === undefined) {
          this.fail(error);
          return false;
        }
        pending.settler.reject(error);
        continue;
      }
      if (pending !== undefined) {
        pending.seq = this.acceptedSeq + kept.length;
        keptSettlers.push(pending);
      }
      kept.push(queue[i]!);
    }
    this.queue = kept;
    this.head = 0;
    this.tail = kept.length;
    this.settlers = keptSettlers;
    this.settlersHead = 0;
    for (let i = 0; i < this.waitingSends.length; i++) {
      const waiting = this.waitingSends[i]!;
      try {
        transport.check(waiting.message);
      } catch (error) {
        this.waitingSends.splice(i--, 1);
        waiting.settler.reject(error);
      }
    }
    // Rejected sends made room: move waiting ones up, as accepting messages would.
    this.accept(0);
    return true;
  }

  /**
   * An asynchronous open failed: the same outcome as a synchronous throw for everyone who was
   * waiting (sends reject, subscribers error; queued `next` messages fail the channel).
   */
  private openFailed(error: unknown): void {
    this.opening = undefined;
    this.abortOpening = undefined;
    if (this.closing !== undefined || this.failure !== undefined) return;
    if (this.queued > this.settlers.length - this.settlersHead) {
      this.fail(error);
      return;
    }
    this.rejectPending(error);
    const readers = this.readers;
    this.readers = [];
    this.valved = 0;
    for (const reader of readers) {
      reader.stopListening();
      reader.subscriber.error(error);
    }
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = this.release();
    return this.closing;
  }

  private async release(): Promise<void> {
    this.setWatchReadable(false);
    this.setWatchWritable(false);
    this.rejectPending(
      new ChannelClosedError('the channel was closed with messages still pending'),
    );
    let transport = this.transport;
    this.transport = undefined;
    if (transport === undefined && this.opening !== undefined) {
      // Opening: tell the opener to stop, then wait for it, so that nothing it opened is left
      // behind (an opener that honours the signal rejects at once).
      this.abortOpening?.abort(new ChannelClosedError('the channel was closed while opening'));
      try {
        transport = await this.opening;
      } catch {
        transport = undefined; // it failed: nothing to release
      }
    }
    try {
      if (transport !== undefined) await transport.close();
    } finally {
      this.endInbound({});
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<In> {
    return toAsyncIterator(this);
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
