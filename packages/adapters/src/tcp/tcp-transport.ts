import type { Socket } from 'node:net';

import { native } from '@rxipc/native';

import type { ByteStreamTransport } from '../channel/transport.js';

/** Bytes buffered from the socket before it is paused (the kernel buffer then fills). */
const READ_HIGH_WATER = 64 * 1024;
/** How long `close` waits for an ended socket's buffered writes to reach the kernel. */
const FLUSH_TIMEOUT_MS = 5000;

/**
 * A TCP connection (Node's `net.Socket`) as a byte stream. Node pushes data; this turns it
 * into the pull interface the channel wants: the socket is paused whenever the channel has no
 * demand or 64 KiB are buffered, so a slow consumer fills the kernel's buffers and slows the
 * peer, as with any rxipc stream. Writes are copied into one buffer per call and handed to
 * `socket.write`; while Node holds a write it could not pass to the kernel
 * (`writableNeedDrain`), the next write reports "nothing written" and waits for `drain`.
 *
 * Buffers: up to 64 KiB read ahead, and Node's write buffer (about one coalesced write).
 */
export function tcpTransport(socket: Socket, connected: boolean): ByteStreamTransport {
  return new TcpTransport(socket, connected);
}

class TcpTransport implements ByteStreamTransport {
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;
  private ended = false;
  private failure: unknown;
  private onReadable: (() => void) | null = null;
  private onWritable: (() => void) | null = null;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly socket: Socket,
    private connected: boolean,
  ) {
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= READ_HIGH_WATER) socket.pause();
      this.onReadable?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.onReadable?.();
    });
    socket.on('error', (error) => {
      this.failure ??= asSystemError(error);
      this.onReadable?.();
      this.onWritable?.();
    });
    socket.on('connect', () => {
      this.connected = true;
      this.onWritable?.();
    });
    socket.on('drain', () => this.onWritable?.());
  }

  read(target: Uint8Array): number | null {
    if (this.buffered === 0) {
      if (this.failure !== undefined) throw this.failure;
      return this.ended ? 0 : null;
    }
    let n = 0;
    while (n < target.length && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length - this.offset, target.length - n);
      target.set(chunk.subarray(this.offset, this.offset + take), n);
      n += take;
      this.offset += take;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.buffered -= n;
    if (this.onReadable !== null && this.buffered < READ_HIGH_WATER) this.socket.resume();
    return n;
  }

  writev(chunks: readonly Uint8Array[]): number | null {
    if (this.failure !== undefined) throw this.failure;
    if (!this.connected || this.socket.writableNeedDrain) return null;
    // The framing reuses its buffers after this call returns, and Node keeps what it is given
    // until the kernel takes it: copy.
    const data = Buffer.concat(chunks);
    this.socket.write(data);
    return data.length;
  }

  watchReadable(callback: (() => void) | null): void {
    this.onReadable = callback;
    if (callback === null) {
      this.socket.pause();
      return;
    }
    if (this.buffered < READ_HIGH_WATER && !this.ended) this.socket.resume();
    if (this.buffered > 0 || this.ended || this.failure !== undefined) {
      queueMicrotask(() => this.onReadable?.());
    }
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    if (callback !== null && this.failure !== undefined) queueMicrotask(() => this.onWritable?.());
  }

  endWrite(): void {
    this.socket.end();
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.onReadable = this.onWritable = null;
      if (this.socket.closed) {
        resolve();
        return;
      }
      this.socket.once('close', () => resolve());
      // After endWrite, what `send` reported as accepted may still sit in Node's write buffer:
      // let it reach the kernel (the FIN follows it) before the socket goes, as it would on
      // any other stream (a closed pipe or Unix socket keeps what the kernel accepted).
      if (
        this.socket.writableEnded &&
        !this.socket.writableFinished &&
        this.failure === undefined
      ) {
        const timer = setTimeout(() => this.socket.destroy(), FLUSH_TIMEOUT_MS);
        this.socket.once('finish', () => {
          clearTimeout(timer);
          this.socket.destroy();
        });
        return;
      }
      this.socket.destroy();
    });
    return this.closing;
  }
}

/**
 * Node's `net` errors carry `code`, `errno` and `syscall` but read `connect ECONNREFUSED
 * 127.0.0.1:1`; rxipc's read in Node's `fs` order (`ECONNREFUSED: connection refused, connect
 * '127.0.0.1:1'`), like every other system error of the library. `address` and `port` stay.
 */
export function asSystemError(error: Error): Error {
  const { errno, syscall, address, port } = error as Error & {
    errno?: unknown;
    syscall?: unknown;
    address?: unknown;
    port?: unknown;
  };
  if (typeof errno !== 'number' || typeof syscall !== 'string') return error;
  const where =
    typeof address === 'string'
      ? port === undefined
        ? address
        : `${address}:${String(port)}`
      : undefined;
  const shaped = native.systemError(errno, syscall, where);
  return Object.assign(shaped, { address, port, cause: error });
}
