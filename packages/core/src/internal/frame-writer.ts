/**
 * Frames between a pipeline's parent and a stage process, encoded with the stage's codec and
 * batched: the frames written in one turn of the event loop go as one message,
 * `[BATCH, frames]`, encoded once. Per-message costs (a codec call, a promise, a channel
 * message) are then paid per batch, which is where a pipeline's throughput comes from.
 *
 * A batch is at most `maxBytes` once encoded: a batch that comes out larger is split, and the
 * next ones are made smaller (they grow back while they stay well under), so large messages
 * travel one by one and fit the transport (a ring's slot, a frame size limit).
 */
import type { Channel, Codec } from '@rxipc/adapters';
import * as E from 'fp-ts/lib/Either.js';

import { BATCH } from './protocol.js';

/** The most frames in one batch. */
const MAX_BATCH = 256;

/** Writes frames to `channel` (a raw channel), batched. */
export class FrameWriter<F> {
  private frames: F[] = [];
  private scheduled = false;
  private limit = MAX_BATCH;
  /** The last send: it settles after every earlier one (sends are in order). */
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: Channel<Uint8Array>,
    private readonly codec: Codec<unknown>,
    private readonly maxBytes: number,
    /** A codec or size error, or a failed send; called once per failure. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Frames pushed and not yet handed to the channel. */
  get buffered(): number {
    return this.frames.length;
  }

  /** Queues `frame`; it is sent with the others of this turn (or at once, in a full batch). */
  push(frame: F): void {
    this.frames.push(frame);
    if (this.frames.length >= this.limit) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushSoon);
    }
  }

  /** Hands what is queued to the channel now. */
  flush(): void {
    const frames = this.frames;
    if (frames.length === 0) return;
    this.frames = [];
    try {
      this.sendAll(frames);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Flushes, and resolves when the kernel has accepted everything sent so far. */
  drained(): Promise<void> {
    this.flush();
    return this.last;
  }

  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private sendAll(frames: F[]): void {
    if (frames.length === 1) {
      this.send(this.codec.encode(frames[0]));
      return;
    }
    const bytes = this.codec.encode([BATCH, frames]);
    if (bytes.byteLength <= this.maxBytes) {
      if (bytes.byteLength * 4 < this.maxBytes) this.limit = Math.min(MAX_BATCH, this.limit * 2);
      this.send(bytes);
      return;
    }
    // Too large: smaller batches from now on, and this one in pieces.
    this.limit = Math.max(1, Math.floor((frames.length * this.maxBytes) / bytes.byteLength / 2));
    for (let i = 0; i < frames.length; i += this.limit) {
      this.sendAll(frames.slice(i, i + this.limit));
    }
  }

  private send(bytes: Uint8Array): void {
    const sent = this.channel.send(bytes);
    sent.catch(this.onError);
    this.last = sent;
  }
}

/**
 * Decodes one message into its frames (one, or a batch's), in order.
 *
 * @throws {DecodeError} `ERR_RXIPC_DECODE` for bytes the codec rejects.
 */
export function decodeFrames<F>(codec: Codec<unknown>, bytes: Uint8Array): F[] {
  const decoded = codec.decode(bytes);
  if (E.isLeft(decoded)) throw decoded.left;
  const frame = decoded.right as readonly unknown[];
  return frame[0] === BATCH ? (frame[1] as F[]) : [frame as F];
}
