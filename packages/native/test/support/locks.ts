/**
 * The four kinds of lock waiter (lock_waiter.h), each with a resource the tests can give and
 * check: a POSIX semaphore (sem_wait), a System V set (semop), and a file locked with flock and
 * with an OFD lock. `make()` returns a blocked-until-given resource; `cleanupLockResources()`
 * (for `afterEach`) closes and removes everything made, whatever the test did.
 */
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { native, type FdHandle, type SystemError, type WaiterHandle } from '../../src/index.js';

export type LockKind = 'sem_wait' | 'semop' | 'flock' | 'ofd';
export const LOCK_KINDS: readonly LockKind[] = ['sem_wait', 'semop', 'flock', 'ofd'];

/** A resource that is taken until `give()`, and a way to wait for it in a lock waiter. */
export interface LockResource {
  /** Starts a lock waiter that blocks until the resource is given. */
  waiter(callback: (error: SystemError | null) => void): WaiterHandle;
  /** Makes the resource available once (post, or the holder unlocks). */
  give(): void;
  /** Takes it back from the outside (so the next waiter blocks again). Throws if not free. */
  retake(): void;
  /** Whether the resource is available now (checked without keeping it). */
  free(): boolean;
}

let counter = 0;
const cleanups: Array<() => void> = [];
const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-lock-hazards-'));

/** Closes and removes every resource made (for `afterEach`). */
export function cleanupLockResources(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // closed already
    }
  }
}

/** Removes the directory of lock files (for `afterAll`). */
export function removeLockDir(): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Registers `fn` to run in `cleanupLockResources`. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

function openFd(file: string): FdHandle {
  const fd = native.fdAdopt(openSync(file, 'a+'), { restoreFlagsOnClose: false });
  cleanups.push(() => native.fdClose(fd));
  return fd;
}

/** A new resource of `kind`, taken (a waiter on it blocks until `give()`). */
export function makeLockResource(kind: LockKind): LockResource {
  switch (kind) {
    case 'sem_wait': {
      const name = `/rxipc-test-${process.pid}-hazard-${++counter}`;
      const sem = native.semOpen(name, { create: true, exclusive: true, value: 0 });
      cleanups.push(() => {
        native.semClose(sem);
        native.semUnlink(name);
      });
      return {
        waiter: (callback) => native.semWaiter(sem, callback),
        give: () => native.semPost(sem),
        retake: () => {
          if (!native.semTryWait(sem)) throw new Error('the semaphore was not free');
        },
        free: () => native.semGetValue(sem) > 0,
      };
    }
    case 'semop': {
      const set = native.sysvSemGet(0, 1, { create: true });
      cleanups.push(() => {
        native.sysvSemRemove(set);
        native.sysvSemClose(set);
      });
      return {
        waiter: (callback) =>
          native.sysvSemWaiter(set, [{ num: 0, op: -1 }], [{ num: 0, op: 1 }], callback),
        give: () => void native.sysvSemOp(set, [{ num: 0, op: 1 }]),
        retake: () => {
          if (!native.sysvSemOp(set, [{ num: 0, op: -1 }])) throw new Error('not free');
        },
        free: () => native.sysvSemGetValue(set, 0) > 0,
      };
    }
    case 'flock':
    case 'ofd': {
      const file = path.join(dir, `${kind}-${++counter}.lock`);
      const holder = openFd(file);
      const probe = openFd(file);
      const lock = (fd: FdHandle): boolean =>
        kind === 'flock'
          ? native.flock(fd, 'exclusive')
          : native.ofdLock(fd, { type: 'write', start: 0, length: 1 });
      const unlock = (fd: FdHandle): void =>
        void (kind === 'flock'
          ? native.flock(fd, 'unlock')
          : native.ofdLock(fd, { type: 'unlock', start: 0, length: 1 }));
      if (!lock(holder)) throw new Error('could not take the lock file');
      return {
        // Each waiter gets its own descriptor (its own open file description).
        waiter: (callback) => {
          const fd = openFd(file);
          const waiter =
            kind === 'flock'
              ? native.flockWaiter(fd, 'exclusive', callback)
              : native.ofdLockWaiter(fd, { type: 'write', start: 0, length: 1 }, callback);
          return waiter;
        },
        give: () => unlock(holder),
        retake: () => {
          if (!lock(holder)) throw new Error('the lock was not free');
        },
        free: () => {
          if (!lock(probe)) return false;
          unlock(probe);
          return true;
        },
      };
    }
  }
}

/** A waiter's reports, in order, as 'result' strings ('acquired', 'cancelled') or error codes. */
export function recorder(): {
  readonly reports: string[];
  callback: (error: SystemError | null) => void;
  bind(waiter: WaiterHandle): void;
} {
  const reports: string[] = [];
  let bound: WaiterHandle | undefined;
  return {
    reports,
    callback: (error) => {
      if (error !== null) reports.push(error.code);
      else if (bound !== undefined) reports.push(native.lockWaiterState(bound).result);
    },
    bind: (waiter) => (bound = waiter),
  };
}

/**
 * A robust mutex in a memfd mapping, held by a `holder` lock waiter. Unlike the kinds above,
 * its releases are asynchronous (only the owner thread unlocks), so the helpers return
 * promises: `report(waiter)` resolves with the waiter's next report.
 */
export interface MutexResource {
  readonly mutex: ReturnType<typeof native.robustMutexInit>;
  readonly holder: WaiterHandle;
  /** A new waiter that starts locking now; its reports go to `report(waiter)`. */
  waiter(): WaiterHandle;
  /** The next report of `waiter` ('acquired', 'owner-dead', 'cancelled', 'released', a code). */
  report(waiter: WaiterHandle): Promise<string>;
}

export async function makeMutexResource(): Promise<MutexResource> {
  const fd = native.memfdCreate('rxipc-lock-hazard');
  native.shmTruncate(fd, 4096);
  const mapping = native.shmMap(fd);
  const mutex = native.robustMutexInit(mapping, 0);
  const pending = new Map<WaiterHandle, Array<(report: string) => void>>();
  const queued = new Map<WaiterHandle, string[]>();
  const deliver = (waiter: WaiterHandle, report: string): void => {
    const next = pending.get(waiter)?.shift();
    if (next !== undefined) next(report);
    else queued.set(waiter, [...(queued.get(waiter) ?? []), report]);
  };
  const waiter = (): WaiterHandle => {
    const made: WaiterHandle = native.robustMutexWaiter(mutex, (error) =>
      deliver(made, error !== null ? error.code : native.lockWaiterState(made).result),
    );
    return made;
  };
  const report = (w: WaiterHandle): Promise<string> => {
    const ready = queued.get(w)?.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => pending.set(w, [...(pending.get(w) ?? []), resolve]));
  };
  cleanups.push(() => {
    native.robustMutexClose(mutex);
    native.shmUnmap(mapping);
    native.fdClose(fd);
  });
  const holder = waiter();
  if ((await report(holder)) !== 'acquired') throw new Error('the holder could not lock');
  return { mutex, holder, waiter, report };
}
