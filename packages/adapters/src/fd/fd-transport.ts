import {
  type Binding,
  type FdHandle,
  type FdWatcherHandle,
  native as defaultBinding,
  POLL_READABLE,
  POLL_WRITABLE,
} from '@rxipc/native';

import type { ByteStreamTransport } from '../channel/transport.js';

/** Options for {@link fdTransport}. */
export interface FdTransportOptions {
  /** The descriptor read from, if any. Owned by the transport from now on. */
  readonly read?: FdHandle;
  /** The descriptor written to, if any; may be the same handle as `read` (a socket). */
  readonly write?: FdHandle;
  /** The native binding; tests pass a fake kernel. */
  readonly binding?: Binding;
}

/**
 * A byte stream over descriptors, woken by `uv_poll`: reads and writes never block, and no
 * thread waits. Regular files cannot be polled (epoll refuses them) and are always ready, so
 * they are read and written on `setImmediate` turns instead. `endWrite` closes the write
 * descriptor, which is how a pipe's reader sees end of stream; `close` closes both.
 */
export function fdTransport(options: FdTransportOptions): ByteStreamTransport {
  return new FdTransport(options.read, options.write, options.binding ?? defaultBinding);
}

class FdTransport implements ByteStreamTransport {
  private readonly readSide: Side | undefined;
  private readonly writeSide: Side | undefined;

  constructor(
    private readonly readHandle: FdHandle | undefined,
    private writeHandle: FdHandle | undefined,
    private readonly binding: Binding,
  ) {
    for (const handle of new Set([readHandle, writeHandle])) {
      if (handle !== undefined) binding.fdSetFlags(handle, { nonblock: true });
    }
    const shared =
      readHandle !== undefined && readHandle === writeHandle
        ? new Side(readHandle, binding)
        : undefined;
    this.readSide =
      shared ?? (readHandle === undefined ? undefined : new Side(readHandle, binding));
    this.writeSide =
      shared ?? (writeHandle === undefined ? undefined : new Side(writeHandle, binding));
  }

  read(target: Uint8Array): number | null {
    if (this.readHandle === undefined) return 0;
    return this.binding.fdRead(this.readHandle, target);
  }

  writev(chunks: readonly Uint8Array[]): number | null {
    if (this.writeHandle === undefined) {
      throw Object.assign(new Error('this channel has no write side'), {
        code: 'ERR_RXIPC_READ_ONLY',
      });
    }
    return this.binding.fdWritev(this.writeHandle, chunks);
  }

  watchReadable(callback: (() => void) | null): void {
    this.readSide?.watch(POLL_READABLE, callback);
  }

  watchWritable(callback: (() => void) | null): void {
    this.writeSide?.watch(POLL_WRITABLE, callback);
  }

  endWrite(): void {
    const handle = this.writeHandle;
    if (handle === undefined || handle === this.readHandle) return;
    this.writeSide?.close();
    this.writeHandle = undefined;
    this.binding.fdClose(handle);
  }

  close(): void {
    this.readSide?.close();
    this.writeSide?.close();
    for (const handle of new Set([this.readHandle, this.writeHandle])) {
      if (handle !== undefined) this.binding.fdClose(handle);
    }
    this.writeHandle = undefined;
  }
}

/** One descriptor's watcher, shared by reading and writing when they use the same descriptor. */
class Side {
  private watcher: FdWatcherHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly callbacks = new Map<number, () => void>();
  private readonly pollable: boolean;

  constructor(
    private readonly handle: FdHandle,
    private readonly binding: Binding,
  ) {
    this.pollable = binding.fdType(handle) !== 'file';
  }

  watch(event: number, callback: (() => void) | null): void {
    if (callback === null) this.callbacks.delete(event);
    else this.callbacks.set(event, callback);
    let mask = 0;
    for (const key of this.callbacks.keys()) mask |= key;
    if (!this.pollable) {
      this.scheduleImmediate();
      return;
    }
    if (mask === 0) {
      if (this.watcher !== undefined) this.binding.fdWatchStop(this.watcher);
      return;
    }
    this.watcher ??= this.binding.fdWatch(this.handle, (status, events) =>
      this.fire(status, events),
    );
    this.binding.fdWatchStart(this.watcher, mask);
  }

  private fire(status: number, events: number): void {
    // On an error status (a pipe whose reader left reports EBADF here) every watcher runs,
    // and the next read or write returns the real error (EPIPE, ...).
    for (const [event, callback] of [...this.callbacks]) {
      if (status < 0 || (events & event) !== 0 || (event === POLL_READABLE && events !== 0))
        callback();
    }
  }

  private scheduleImmediate(): void {
    if (this.immediate !== undefined || this.callbacks.size === 0) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      for (const callback of [...this.callbacks.values()]) callback();
      this.scheduleImmediate();
    });
  }

  close(): void {
    this.callbacks.clear();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.watcher !== undefined) this.binding.fdWatchClose(this.watcher);
    this.watcher = undefined;
  }
}
