import type { Observable, Observer } from 'rxjs';

import type { Codec } from '../codecs/codec.js';

/** What `next()` does when `highWaterMark` messages are already pending. */
export type OverflowPolicy = 'pause' | 'error' | 'drop-newest' | 'drop-oldest';

/**
 * One endpoint, both ways: an `Observable` of incoming messages, an `Observer` for outgoing
 * ones, and an async iterable as the pull interface.
 *
 * - Subscribing starts reading; several subscribers share one reader and each sees every
 *   message. Reading stops (and the kernel buffer fills, slowing the peer) when the last
 *   subscriber leaves or when any subscriber's valve is closed (see `subscribeWithValve`).
 * - `send` resolves when the kernel has accepted the message; it waits, never drops.
 * - `next` queues without waiting, up to `highWaterMark` pending messages; past that the
 *   `overflow` policy applies. `complete` sends what is pending, then ends the write side.
 * - Incoming end of stream completes subscribers; a failure errors them and rejects sends.
 * - `close` releases the kernel object now (unlinking it if the channel created it);
 *   pending sends reject with `ERR_RXIPC_CHANNEL_CLOSED`. Idempotent.
 */
export interface Channel<In = Uint8Array, Out = In>
  extends Observable<In>, Observer<Out>, AsyncIterable<In> {
  /** Resolves when the kernel has accepted `message`. */
  send(message: Out): Promise<void>;
  /** Releases the kernel object; resolves when it is released. Idempotent. */
  close(): Promise<void>;
  /** Messages not yet accepted by the kernel (queued by `next`/`send`, or waiting in `send`). */
  readonly pending: number;
  /** Pending messages at which `next` applies the overflow policy and `ready()` waits. */
  readonly highWaterMark: number;
  /** Resolves when `pending` is below `highWaterMark` (at once if it already is). */
  ready(): Promise<void>;
  /** Counters: messages in and out, and those dropped by the overflow policy. */
  readonly stats: ChannelStats;
}

export interface ChannelStats {
  readonly received: number;
  readonly sent: number;
  readonly dropped: number;
  /** Incoming messages the codec rejected and `onDecodeError: 'skip'` skipped. */
  readonly undecodable: number;
}

/** Options every channel accepts (in code, or as URI options of the same name). */
export interface ChannelOptions<In = Uint8Array, Out = In> {
  /** Turns values into bytes and back. Default: raw bytes (`Uint8Array`). */
  readonly codec?: Codec<In> & Codec<Out>;
  /** Messages `next` may queue before `overflow` applies. Default: 1024. */
  readonly highWaterMark?: number;
  /**
   * What `next` does past `highWaterMark`. Default: `'error'` (the channel errors with
   * `ERR_RXIPC_OVERFLOW`). `'pause'` is for `writeAll`, which slows its source instead; a bare
   * `next()` cannot slow its caller, so with `'pause'` it errors like `'error'`.
   */
  readonly overflow?: OverflowPolicy;
  /** An incoming message the codec cannot decode: error the stream, or count and skip it. */
  readonly onDecodeError?: 'error' | 'skip';
  /** Messages delivered per wake-up before yielding to the event loop. Default: 4096. */
  readonly batch?: number;
}
