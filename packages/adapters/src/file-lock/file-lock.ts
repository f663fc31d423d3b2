/**
 * File locks as reactive resources: `flock(2)` (the whole file, shared or exclusive; what
 * `flock(1)` takes) and open file description record locks (`fcntl(2)` `F_OFD_SETLK`, a byte
 * range, read or write).
 *
 * Each acquisition opens the file anew, so it gets its own open file description: fcntl(2),
 * OFD locks "are associated with an open file description rather than a process", and two
 * descriptions conflict even inside one process, so acquisitions exclude each other here as
 * they do across processes. Releasing unlocks and closes the descriptor. The kernel drops the
 * locks of a process that dies (its descriptors close), so a killed holder never blocks the
 * others. The descriptors are close-on-exec: a child process does not inherit a lock.
 *
 * `flock` and `fcntl` locks do not see each other on Linux: peers must use the same kind
 * (`flock(1)` and most tools use `flock`; OFD locks do conflict with a C program's
 * `fcntl(F_SETLK)` locks).
 */
import { constants, openSync } from 'node:fs';
import path from 'node:path';

import { Observable } from 'rxjs';

import {
  native as defaultBinding,
  type Binding,
  type FdHandle,
  type WaiterHandle,
} from '@rxipc/native';

import { checkInteger, checkMode, invalidValue } from '../permit/checks.js';
import { BasicPermit, LockCore } from '../permit/lock-core.js';
import type { Lock, Permit } from '../permit/permit.js';

/** Options for {@link fileLock}. */
export interface FileLockConfig {
  /** The file to lock (made absolute against the working directory). */
  readonly path: string;
  /** `'exclusive'` (one holder; a write lock) or `'shared'` (many; a read lock). Default: `'exclusive'`. */
  readonly mode?: 'exclusive' | 'shared';
  /** `'flock'` (whole file) or `'ofd'` (a byte range). Default: `'flock'`. */
  readonly type?: 'flock' | 'ofd';
  /** For `'ofd'`: the first byte. Default: `0`. */
  readonly start?: number;
  /** For `'ofd'`: how many bytes; `0` (the default) means to the end, however far it grows. */
  readonly length?: number;
  /** Create the file if it does not exist. Default: `true`. */
  readonly create?: boolean;
  /** Permission bits of a new file. Default: `0o600`. */
  readonly fileMode?: number;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/** A file lock (see {@link fileLock}). Nothing is opened until an acquisition. */
export class FileLock implements Lock<Permit> {
  private readonly core: LockCore;
  private readonly descriptors = new Map<WaiterHandle, FdHandle>();

  /** @internal Use {@link fileLock}. */
  constructor(
    private readonly binding: Binding,
    /** The file, as an absolute path. */
    readonly path: string,
    /** Exclusive or shared. */
    readonly mode: 'exclusive' | 'shared',
    /** flock or an OFD record lock. */
    readonly type: 'flock' | 'ofd',
    private readonly range: { readonly start: number; readonly length: number },
    private readonly create: boolean,
    private readonly fileMode: number,
  ) {
    // One descriptor per acquisition, and its waiter with it: nothing to keep idle. Closing
    // the descriptor closes its waiter (and the kernel drops any lock left on it).
    this.core = new LockCore(
      binding,
      {
        keepIdle: 0,
        dispose: (waiter) => {
          const fd = this.descriptors.get(waiter);
          this.descriptors.delete(waiter);
          if (fd !== undefined) binding.fdClose(fd);
          else binding.waiterClose(waiter);
        },
      },
      `file lock on ${path}`,
    );
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Opens the file, takes the lock (at once if free, else in a waiter thread) and emits a
   * {@link Permit}; unlocks and closes the descriptor when the subscription ends. Never
   * completes on its own; unsubscribing while waiting cancels the wait.
   *
   * @example
   * ```ts
   * lock.acquire().pipe(take(1)).subscribe(); // takes it and lets go at once
   * withPermit(lock)(defer(() => writeConfig())).subscribe();
   * ```
   * @throws Nothing at call time. On the error channel: `ENOENT`/`EACCES` (syscall `'open'`)
   * for the file, `ENOLCK`, `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  acquire(): Observable<Permit> {
    return new Observable<Permit>((subscriber) => {
      const fd = this.openFile();
      // Who closes the descriptor: the fast path's release, or the waiter's disposal.
      let owner: 'none' | 'fast' | 'waiter' = 'none';
      const subscription = this.core
        .acquire({
          waiter: {
            key: '',
            create: (callback) => {
              const waiter =
                this.type === 'flock'
                  ? this.binding.flockWaiter(fd, this.mode, callback)
                  : this.binding.ofdLockWaiter(fd, this.ofdRange(), callback);
              this.descriptors.set(waiter, fd);
              owner = 'waiter';
              return waiter;
            },
          },
          tryAcquire: () => {
            const locked = this.tryLock(fd);
            if (locked) owner = 'fast';
            return locked;
          },
          releaseFast: () => this.unlockAndClose(fd),
          permit: (_held, release) => new BasicPermit(release),
        })
        .subscribe(subscriber);
      // Failed before either path took the descriptor (a system error, a closed lock).
      if (owner === 'none') this.binding.fdClose(fd);
      return subscription;
    });
  }

  /**
   * Takes the lock now if nobody holds a conflicting one: a {@link Permit}, or `null`. Never
   * blocks.
   *
   * @throws A system error opening the file (`ENOENT`, `EACCES`); `ERR_RXIPC_LOCK_CLOSED` after
   * `close()`.
   */
  tryAcquire(): Permit | null {
    this.core.checkOpen('tryAcquire');
    const fd = this.openFile();
    let locked = false;
    try {
      locked = this.tryLock(fd);
    } finally {
      if (!locked) this.binding.fdClose(fd);
    }
    if (!locked) return null;
    const tracked = this.core.track(() => this.unlockAndClose(fd));
    const permit = new BasicPermit(tracked.release);
    tracked.onAbort(() => permit.release());
    return permit;
  }

  /** Permits held and acquisitions pending in this process. */
  get active(): number {
    return this.core.activeCount;
  }

  /**
   * Releases every lock this object holds and errors pending acquisitions with
   * `ERR_RXIPC_LOCK_CLOSED`. Leaves the file in place. Idempotent.
   */
  close(): void {
    this.core.close();
  }

  private openFile(): FdHandle {
    // O_NONBLOCK: opening a FIFO someone put at the path must not block the event loop.
    // A write lock needs a descriptor open for writing (fcntl(2), EBADF otherwise); flock and
    // read locks do not, so read-only files can be locked shared.
    const write = this.type === 'ofd' && this.mode === 'exclusive';
    const flags =
      (write ? constants.O_RDWR : constants.O_RDONLY) |
      constants.O_NONBLOCK |
      (this.create ? constants.O_CREAT : 0);
    // Node opens with O_CLOEXEC (libuv), so children never inherit a lock.
    const fd = openSync(this.path, flags, this.fileMode);
    return this.binding.fdAdopt(fd, { restoreFlagsOnClose: false });
  }

  private tryLock(fd: FdHandle): boolean {
    return this.type === 'flock'
      ? this.binding.flock(fd, this.mode)
      : this.binding.ofdLock(fd, this.ofdRange());
  }

  private unlockAndClose(fd: FdHandle): void {
    try {
      if (this.type === 'flock') this.binding.flock(fd, 'unlock');
      else this.binding.ofdLock(fd, { ...this.range, type: 'unlock' });
    } finally {
      this.binding.fdClose(fd);
    }
  }

  private ofdRange(): { type: 'read' | 'write'; start: number; length: number } {
    return { type: this.mode === 'exclusive' ? 'write' : 'read', ...this.range };
  }
}

/**
 * A file lock on `path`: `flock(2)` by default, or an OFD record lock on a byte range. Opens
 * nothing until an acquisition.
 *
 * @example
 * ```ts
 * const lock = fileLock({ path: '/tmp/app.lock' });            // what `flock /tmp/app.lock` takes
 * const row = fileLock({ path: 'table.db', type: 'ofd', start: 4096, length: 512 });
 * lock.acquire().subscribe((permit) => console.log('mine until unsubscribed'));
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an empty path, an unknown `mode` or `type`,
 * or a range given to a `flock` lock.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or fractional `start` or `length`.
 */
export function fileLock(config: FileLockConfig | string): FileLock {
  const c: FileLockConfig = typeof config === 'string' ? { path: config } : config;
  if (typeof c.path !== 'string' || c.path === '' || c.path.includes('\0')) {
    throw invalidValue('a file lock needs a path (no NUL bytes)');
  }
  const mode = c.mode ?? 'exclusive';
  if (mode !== 'exclusive' && mode !== 'shared') {
    throw invalidValue(`mode must be 'exclusive' or 'shared', got ${JSON.stringify(mode)}`);
  }
  const type = c.type ?? 'flock';
  if (type !== 'flock' && type !== 'ofd') {
    throw invalidValue(`type must be 'flock' or 'ofd', got ${JSON.stringify(type)}`);
  }
  if (type === 'flock' && (c.start !== undefined || c.length !== undefined)) {
    throw invalidValue("flock locks the whole file; use type: 'ofd' for a byte range");
  }
  const range = {
    start: checkInteger(c.start ?? 0, 'start', 0, Number.MAX_SAFE_INTEGER),
    length: checkInteger(c.length ?? 0, 'length', 0, Number.MAX_SAFE_INTEGER),
  };
  return new FileLock(
    c.binding ?? defaultBinding,
    path.resolve(c.path),
    mode,
    type,
    range,
    c.create ?? true,
    checkMode(c.fileMode, 0o600),
  );
}
