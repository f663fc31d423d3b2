import { FrameTooLargeError } from '../errors.js';
import type { FrameDecoder, Framing } from './framing.js';

const EMPTY = new Uint8Array(0);

/**
 * No framing: each chunk the kernel returns is one message, and a message is written as it
 * is. Boundaries are not kept (two sends may arrive as one chunk); for peers that speak
 * plain bytes. Empty messages are not delivered (a zero-length read means end of stream).
 */
export const rawFraming: Framing = {
  name: 'raw',
  prefixLength: 0,
  writePrefix() {},
  suffix: EMPTY,
  check(payload, maxFrameSize) {
    if (payload.length > maxFrameSize) {
      throw new FrameTooLargeError(
        `a message of ${payload.length} bytes exceeds maxFrameSize ${maxFrameSize}`,
      );
    }
  },
  decoder: () => new RawDecoder(),
};

class RawDecoder implements FrameDecoder {
  private chunk: Uint8Array | undefined;

  push(chunk: Uint8Array): void {
    this.chunk = chunk.length > 0 ? chunk : undefined;
  }

  next(): Uint8Array | undefined {
    const { chunk } = this;
    this.chunk = undefined;
    return chunk;
  }

  end(): Uint8Array | undefined {
    return undefined;
  }
}
