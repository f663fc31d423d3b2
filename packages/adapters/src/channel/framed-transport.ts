import type { FrameDecoder, Framing } from '../framing/framing.js';
import { typedArraySet } from '../internal/typed-array-set.js';
import { type ByteStreamTransport, END, type MessageTransport } from './transport.js';

/** Bytes read from the kernel per call; the chunk frames are cut from (views, not copies). */
const READ_CHUNK = 64 * 1024;
/** A read buffer with less room than this is replaced rather than filled further. */
const MIN_READ_ROOM = 4 * 1024;
/** Frames up to this size are copied into one coalesced write; larger ones go as their own iovec. */
const COALESCE_LIMIT = 16 * 1024;
/**
 * Bytes and iovecs handed to one writev(2); IOV_MAX is 1024. A pipe holds 64 KiB, so a larger
 * batch only builds views the kernel refuses (measured: 256 KiB halved 1 KiB throughput);
 * 64 KiB also lets reader and writer overlap on two vCPUs.
 */
const WRITE_BATCH_BYTES = 64 * 1024;
const WRITE_BATCH_IOVECS = 1000;

/**
 * Carries messages over a byte stream with a framing. Reads 64 KiB at a time and cuts frames
 * as views of that chunk; writes many frames per `writev(2)` (small frames copied into one
 * buffer, large ones passed as their own iovec), which is where rxipc's throughput comes from.
 *
 * Buffers: one 64 KiB read chunk (a new one once handed-out frames fill it), one partial
 * frame of at most `maxFrameSize`, and a 64 KiB scratch buffer for coalesced writes.
 */
export function framedTransport(
  stream: ByteStreamTransport,
  framing: Framing,
  maxFrameSize: number,
): MessageTransport {
  return new FramedTransport(stream, framing, maxFrameSize);
}

class FramedTransport implements MessageTransport {
  private readonly decoder: FrameDecoder;
  private readBuffer = new Uint8Array(READ_CHUNK);
  private readPosition = 0;
  private ended = false;
  /** Bytes of the first unaccepted message already written (a partial write). */
  private headWritten = 0;
  private readonly scratch = new Uint8Array(COALESCE_LIMIT * 4);

  constructor(
    private readonly stream: ByteStreamTransport,
    private readonly framing: Framing,
    readonly maxMessageSize: number,
  ) {
    this.decoder = framing.decoder(maxMessageSize);
  }

  check(message: Uint8Array): void {
    this.framing.check(message, this.maxMessageSize);
  }

  receive(): Uint8Array | null | typeof END {
    for (;;) {
      const frame = this.decoder.next();
      if (frame !== undefined) return frame;
      if (this.ended) return END;
      const direct = this.decoder.directTarget?.();
      if (direct !== undefined) {
        // The rest of a large frame: read straight into it, saving a copy.
        const n = this.stream.read(direct);
        if (n === null) return null;
        if (n === 0) {
          this.ended = true;
          return this.decoder.end() ?? END;
        }
        this.decoder.filled!(n);
        continue;
      }
      if (this.readBuffer.length - this.readPosition < MIN_READ_ROOM) {
        this.readBuffer = new Uint8Array(READ_CHUNK);
        this.readPosition = 0;
      }
      const room = this.readBuffer.subarray(this.readPosition);
      const n = this.stream.read(room);
      if (n === null) return null;
      if (n === 0) {
        this.ended = true;
        const last = this.decoder.end();
        return last ?? END;
      }
      this.decoder.push(room.subarray(0, n));
      this.readPosition += n;
    }
  }

  watchReadable(callback: (() => void) | null): void {
    this.stream.watchReadable(callback);
  }

  watchWritable(callback: (() => void) | null): void {
    this.stream.watchWritable(callback);
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    const { framing, scratch } = this;
    const iov: Uint8Array[] = [];
    const lengths: number[] = [];
    let bytes = 0;
    let scratchAt = 0;
    let runStart = 0;
    const flushRun = (): void => {
      if (scratchAt > runStart) iov.push(scratch.subarray(runStart, scratchAt));
      runStart = scratchAt;
    };

    for (
      let i = start;
      i < end && iov.length < WRITE_BATCH_IOVECS && bytes < WRITE_BATCH_BYTES;
      i++
    ) {
      const payload = messages[i]!;
      const frameLength = framing.prefixLength + payload.length + framing.suffix.length;
      const skip = i === start ? this.headWritten : 0;
      if (frameLength <= COALESCE_LIMIT && scratchAt + frameLength <= scratch.length) {
        const at = scratchAt;
        framing.writePrefix(scratch, at, payload.length);
        typedArraySet.call(scratch, payload, at + framing.prefixLength);
        if (framing.suffix.length > 0) {
          typedArraySet.call(scratch, framing.suffix, at + framing.prefixLength + payload.length);
        }
        scratchAt += frameLength;
        if (skip > 0) runStart = at + skip;
      } else if (frameLength <= COALESCE_LIMIT) {
        // The scratch buffer is full: end the batch here rather than send small frames as
        // prefix-and-payload iovec pairs.
        break;
      } else {
        flushRun();
        let parts: Uint8Array[] = [payload];
        if (framing.prefixLength > 0) {
          if (scratchAt + framing.prefixLength > scratch.length) break;
          framing.writePrefix(scratch, scratchAt, payload.length);
          parts = [scratch.subarray(scratchAt, scratchAt + framing.prefixLength), payload];
          scratchAt += framing.prefixLength;
          runStart = scratchAt;
        }
        if (framing.suffix.length > 0) parts.push(framing.suffix);
        pushSkipping(iov, parts, skip);
      }
      lengths.push(frameLength);
      bytes += frameLength - skip;
    }
    flushRun();

    const written = this.stream.writev(iov);
    if (written === null) return 0;
    let consumed = this.headWritten + written;
    let accepted = 0;
    for (const length of lengths) {
      if (consumed < length) break;
      consumed -= length;
      accepted++;
    }
    this.headWritten = accepted < lengths.length ? consumed : 0;
    return accepted;
  }

  endWrite(): void {
    this.stream.endWrite?.();
  }

  close(): void | Promise<void> {
    return this.stream.close();
  }
}

/** Appends `parts` to `iov` without their first `skip` bytes. */
function pushSkipping(iov: Uint8Array[], parts: readonly Uint8Array[], skip: number): void {
  let left = skip;
  for (const part of parts) {
    if (left >= part.length) {
      left -= part.length;
      continue;
    }
    iov.push(left > 0 ? part.subarray(left) : part);
    left = 0;
  }
}
