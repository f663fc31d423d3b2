import { FrameTooLargeError, FramingError } from '../errors.js';
import type { FrameDecoder, Framing } from './framing.js';

const NEWLINE = 0x0a;
const SUFFIX = new Uint8Array([NEWLINE]);
const EMPTY = new Uint8Array(0);

/**
 * Newline-terminated frames, the way `cat`, `seq` and `echo` speak. The newline is not part of
 * the payload (a trailing `\r` is kept). A payload may not contain a newline. A last line
 * without a newline at end of stream is still delivered. A line longer than `maxFrameSize`
 * is a `FrameTooLargeError`.
 */
export const lineFraming: Framing = {
  name: 'line',
  prefixLength: 0,
  writePrefix() {},
  suffix: SUFFIX,
  check(payload, maxFrameSize) {
    if (payload.length > maxFrameSize) {
      throw new FrameTooLargeError(
        `a line of ${payload.length} bytes exceeds maxFrameSize ${maxFrameSize}`,
      );
    }
    if (payload.includes(NEWLINE)) {
      throw new FramingError('a message sent with line framing contains a newline');
    }
  },
  decoder: (maxFrameSize) => new LineDecoder(maxFrameSize),
};

class LineDecoder implements FrameDecoder {
  private chunk: Uint8Array = EMPTY;
  private offset = 0;
  /** The start of a line that spans chunks. */
  private carried: Uint8Array[] = [];
  private carriedLength = 0;

  constructor(private readonly maxFrameSize: number) {}

  push(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.offset = 0;
  }

  next(): Uint8Array | undefined {
    const { chunk, offset } = this;
    if (offset >= chunk.length) return undefined;
    const newline = chunk.indexOf(NEWLINE, offset);
    if (newline === -1) {
      this.carry(chunk.subarray(offset));
      this.offset = chunk.length;
      return undefined;
    }
    this.offset = newline + 1;
    const tail = chunk.subarray(offset, newline);
    if (this.carriedLength === 0) {
      this.checkLength(tail.length);
      return tail;
    }
    this.carry(tail);
    return this.takeCarried();
  }

  end(): Uint8Array | undefined {
    const rest = this.chunk.subarray(this.offset);
    this.offset = this.chunk.length;
    if (rest.length > 0) this.carry(rest);
    return this.carriedLength > 0 || this.carried.length > 0 ? this.takeCarried() : undefined;
  }

  private carry(part: Uint8Array): void {
    this.carriedLength += part.length;
    this.checkLength(this.carriedLength);
    this.carried.push(part);
  }

  private takeCarried(): Uint8Array {
    const line = new Uint8Array(this.carriedLength);
    let at = 0;
    for (const part of this.carried) {
      line.set(part, at);
      at += part.length;
    }
    this.carried = [];
    this.carriedLength = 0;
    return line;
  }

  private checkLength(length: number): void {
    if (length > this.maxFrameSize) {
      this.carried = [];
      this.carriedLength = 0;
      throw new FrameTooLargeError(
        `an incoming line is longer than maxFrameSize ${this.maxFrameSize} bytes`,
      );
    }
  }
}
