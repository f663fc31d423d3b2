import type { Binding, FdHandle, FdWatcherHandle } from '@rxipc/native';

/**
 * One `uv_poll` watcher on a socket, shared by the readable and writable callbacks (libuv
 * allows one poll handle per descriptor). Level-triggered: a callback runs on every loop turn
 * while its condition holds. On an error status both callbacks run, so that the next read or
 * write reports the real error.
 */
export class SocketWatcher {
  private watcher: FdWatcherHandle | undefined;
  private readonly callbacks = new Map<number, () => void>();

  constructor(
    private readonly handle: FdHandle,
    private readonly binding: Binding,
  ) {}

  /** Sets or (with `null`) clears the callback for `event`: `POLL_READABLE` or `POLL_WRITABLE`. */
  watch(event: number, callback: (() => void) | null): void {
    if (callback === null) this.callbacks.delete(event);
    else this.callbacks.set(event, callback);
    let mask = 0;
    for (const key of this.callbacks.keys()) mask |= key;
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
    for (const [event, callback] of [...this.callbacks]) {
      // A hang-up arrives as readable (libuv adds the watched bits on EPOLLHUP/EPOLLERR).
      if (status < 0 || (events & event) !== 0) callback();
    }
  }

  close(): void {
    this.callbacks.clear();
    if (this.watcher !== undefined) this.binding.fdWatchClose(this.watcher);
    this.watcher = undefined;
  }
}
