import { chmodSync, unlinkSync } from 'node:fs';

import {
  type Binding,
  type FdHandle,
  native as defaultBinding,
  POLLHUP,
  POLLIN,
} from '@rxipc/native';

import type { ByteStreamTransport } from '../channel/transport.js';
import { isSystemError } from '../errors.js';
import { fdTransport } from '../fd/fd-transport.js';
import { registerNamedObject } from '../registry/named-objects.js';
import type { FifoEndpoint } from './uri.js';

/** The first retry of a writer's open that found no reader, then doubling up to the maximum. */
const OPEN_RETRY_FIRST_MS = 1;
const OPEN_RETRY_MAX_MS = 100;

/**
 * A FIFO as a byte stream. The FIFO is made (`mkfifo`, recorded in the registry of named
 * objects) when the transport is created, unless it exists; the read end opens on the first
 * read and the write end on the first write, both with `O_NONBLOCK`, so nothing ever waits in
 * `open(2)`:
 *
 * - A reader opens at once. `read(2)` returns 0 both before the first writer arrives and after
 *   the last one left; only the second is end of stream (`POLLHUP`, see fifo(7) and
 *   {@link Binding.fdPoll}). With `reopen`, the transport also holds a write end of its own,
 *   so the stream never ends and each new writer's bytes simply follow (the daemon case).
 * - A writer's open fails with `ENXIO` until some process has the FIFO open for reading; the
 *   transport then retries on a timer (1 ms, doubling to 100 ms) and reports "nothing written
 *   yet", so sends wait for the reader as a blocking open would, without blocking.
 *
 * `close` closes both ends and removes the FIFO if this transport made it; a FIFO it found is
 * left alone.
 */
export function fifoTransport(
  endpoint: FifoEndpoint,
  binding: Binding = defaultBinding,
): ByteStreamTransport {
  return new FifoTransport(endpoint, binding);
}

class FifoTransport implements ByteStreamTransport {
  private readHandle: FdHandle | undefined;
  private readSide: ByteStreamTransport | undefined;
  /** `reopen`: our own write end, so that the read end never sees the last writer leave. */
  private keepalive: FdHandle | undefined;
  private writeSide: ByteStreamTransport | undefined;
  private onWritable: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = OPEN_RETRY_FIRST_MS;
  private writeEnded = false;
  private closed = false;
  /** Set when this transport made the FIFO: forgets the record and removes the FIFO. */
  private readonly release: ((removeNow?: boolean) => void) | undefined;

  constructor(
    private readonly endpoint: FifoEndpoint,
    private readonly binding: Binding,
  ) {
    this.release = this.makeFifo();
  }

  private makeFifo(): ((removeNow?: boolean) => void) | undefined {
    const { path, mode, create } = this.endpoint;
    if (!create) return undefined;
    try {
      this.binding.mkfifo(path, mode);
    } catch (error) {
      // Someone made it first (or it is no FIFO: the open says so, with what it is).
      if (isSystemError(error, 'EEXIST')) return undefined;
      throw error;
    }
    try {
      // mkfifo(3) narrows the mode by the umask; the caller asked for exactly this one.
      chmodSync(path, mode);
    } catch (error) {
      unlinkQuietly(path);
      throw error;
    }
    return registerNamedObject({ kind: 'fifo', name: path, mode }, () => unlinkQuietly(path));
  }

  read(target: Uint8Array): number | null {
    if (this.readSide === undefined) this.openRead();
    const n = this.readSide!.read(target);
    if (n !== 0) return n;
    // 0 before the first writer as after the last: only POLLHUP ("a writer came and went since
    // this open") is end of stream. Until then the watcher stays quiet, so nothing spins.
    return (this.binding.fdPoll(this.readHandle!, POLLIN) & POLLHUP) !== 0 ? 0 : null;
  }

  private openRead(): void {
    const handle = this.binding.fifoOpen(this.endpoint.path, 'read');
    try {
      // A writer's open succeeds now that a reader exists.
      if (this.endpoint.reopen) this.keepalive = this.binding.fifoOpen(this.endpoint.path, 'write');
      this.readSide = fdTransport({ read: handle, binding: this.binding });
    } catch (error) {
      this.binding.fdClose(handle);
      if (this.keepalive !== undefined) this.binding.fdClose(this.keepalive);
      throw error;
    }
    this.readHandle = handle;
  }

  writev(chunks: readonly Uint8Array[]): number | null {
    if (this.writeSide === undefined && !this.openWrite()) return null;
    return this.writeSide!.writev(chunks);
  }

  /** Opens the write end; `false` (and a retry scheduled) while no process reads the FIFO. */
  private openWrite(): boolean {
    if (this.writeEnded || this.closed) return false;
    let handle: FdHandle;
    try {
      handle = this.binding.fifoOpen(this.endpoint.path, 'write');
    } catch (error) {
      if (!isSystemError(error, 'ENXIO')) throw error;
      this.scheduleRetry();
      return false;
    }
    this.writeSide = fdTransport({ write: handle, binding: this.binding });
    if (this.onWritable !== null) this.writeSide.watchWritable(this.onWritable);
    return true;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryDelay = Math.min(this.retryDelay * 2, OPEN_RETRY_MAX_MS);
      let opened = false;
      try {
        opened = this.openWrite();
      } catch {
        // Anything but ENXIO: the next write opens again and throws it to the channel.
      }
      if (!opened && this.retryTimer === undefined) this.onWritable?.();
    }, this.retryDelay);
  }

  watchReadable(callback: (() => void) | null): void {
    this.readSide?.watchReadable(callback);
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    if (this.writeSide !== undefined) {
      this.writeSide.watchWritable(callback);
    } else if (callback === null && this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    } else if (callback !== null) {
      this.scheduleRetry();
    }
  }

  endWrite(): void {
    this.writeEnded = true;
    this.stopRetry();
    // Closing our write end is how the reader sees end of stream (if we were the last writer).
    this.writeSide?.close();
    this.writeSide = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopRetry();
    try {
      this.readSide?.close();
      this.writeSide?.close();
      if (this.keepalive !== undefined) this.binding.fdClose(this.keepalive);
    } finally {
      this.readSide = this.writeSide = this.keepalive = undefined;
      this.release?.(true);
    }
  }

  private stopRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone (or replaced and removed by someone else): nothing of ours is left
  }
}
