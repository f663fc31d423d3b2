import { END, type MessageTransport } from '../src/channel/transport.js';

/**
 * A kernel in memory: `incoming` is what the peer sent, `capacity` how many messages the
 * kernel takes before `send` would block. Tests drive readiness by hand.
 */
export class FakeTransport implements MessageTransport {
  readonly maxMessageSize = 1024;
  incoming: (Uint8Array | typeof END)[] = [];
  accepted: Uint8Array[] = [];
  capacity = Infinity;
  receives = 0;
  closed = false;
  writeEnded = false;
  readable: (() => void) | null = null;
  writable: (() => void) | null = null;

  check(message: Uint8Array): void {
    if (message.byteLength > this.maxMessageSize) throw new RangeError('too large');
  }

  receive(): Uint8Array | null | typeof END {
    this.receives++;
    const next = this.incoming[0];
    if (next === undefined) return null;
    if (next !== END) this.incoming.shift();
    return next;
  }

  watchReadable(callback: (() => void) | null): void {
    this.readable = callback;
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    const room = Math.max(0, this.capacity - this.accepted.length);
    const count = Math.min(room, end - start);
    this.accepted.push(...messages.slice(start, start + count));
    return count;
  }

  watchWritable(callback: (() => void) | null): void {
    this.writable = callback;
  }

  endWrite(): void {
    this.writeEnded = true;
  }

  close(): void {
    this.closed = true;
  }

  /** The peer reads `count` messages, making room. */
  drain(count: number): void {
    this.accepted.splice(0, count);
    this.capacity += 0;
    this.writable?.();
  }

  /** The peer sends messages; the channel is woken as the fd watcher would. */
  push(...messages: (Uint8Array | typeof END)[]): void {
    this.incoming.push(...messages);
    this.readable?.();
  }
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));
export const msg = (n: number) => new Uint8Array([n]);
