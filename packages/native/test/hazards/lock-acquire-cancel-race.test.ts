import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native, type WaiterHandle } from '../../src/index.js';
import {
  cleanupLockResources,
  LOCK_KINDS,
  makeLockResource,
  makeMutexResource,
  onCleanup,
  recorder,
  removeLockDir,
} from '../support/locks.js';

afterEach(cleanupLockResources);
afterAll(removeLockDir);

const ROUNDS = 300;

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Busy-waits up to `maxMicros` µs, to land the second step anywhere in the first's window. */
function jitter(round: number, maxMicros: number): void {
  const until = performance.now() + ((round * 7919) % (maxMicros + 1)) / 1000;
  while (performance.now() < until) {
    // spin
  }
}

describe.each(LOCK_KINDS)('acquiring and cancelling a %s lock at the same moment', (kind) => {
  it(`never leaks what was acquired, over ${ROUNDS} rounds`, async () => {
    const resource = makeLockResource(kind);
    const outcomes = { acquired: 0, cancelled: 0 };
    let waiter: WaiterHandle | undefined;
    const record = recorder();
    for (let round = 0; round < ROUNDS; round++) {
      const reports = record.reports.length;
      // sem and semop waiters are reused; file-lock waiters are per descriptor.
      if (waiter === undefined || kind === 'flock' || kind === 'ofd') {
        if (waiter !== undefined) native.waiterClose(waiter);
        waiter = resource.waiter(record.callback);
        record.bind(waiter);
        const current = waiter;
        onCleanup(() => native.waiterClose(current));
      } else {
        native.lockWaiterAcquire(waiter);
      }
      jitter(round, 50);
      resource.give();
      jitter(round * 3, 50);
      native.lockWaiterCancel(waiter);
      await until(() => record.reports.length > reports);
      const report = record.reports.at(-1);
      if (report === 'acquired') {
        outcomes.acquired++;
        // The cancel lost: the caller (whose subscriber left) releases.
        expect(native.lockWaiterRelease(waiter)).toBe(true);
      } else {
        expect(report).toBe('cancelled');
        outcomes.cancelled++;
      }
      // Whoever won, what was given is free again, exactly once.
      expect(resource.free()).toBe(true);
      resource.retake();
      expect(resource.free()).toBe(false);
    }
    expect(outcomes.acquired + outcomes.cancelled).toBe(ROUNDS);
  });

  it(`never leaks what was acquired when the waiter is closed at once, over ${ROUNDS} rounds`, async () => {
    const resource = makeLockResource(kind);
    for (let round = 0; round < ROUNDS; round++) {
      const waiter = resource.waiter(() => {});
      jitter(round, 80);
      resource.give();
      jitter(round * 5, 80);
      // Closing joins the thread; an acquisition it made (reported or not) is released.
      native.waiterClose(waiter);
      expect(resource.free()).toBe(true);
      resource.retake();
    }
    expect(native.waiterCount()).toBe(0);
  });
});

describe('acquiring and cancelling a robust mutex at the same moment', () => {
  const MUTEX_ROUNDS = 100;

  it(`never leaks the mutex nor marks it owner-died, over ${MUTEX_ROUNDS} rounds`, async () => {
    const resource = await makeMutexResource();
    const { holder } = resource;
    const waiter = resource.waiter();
    onCleanup(() => native.waiterClose(waiter));
    for (let round = 0; round < MUTEX_ROUNDS; round++) {
      if (round > 0) native.lockWaiterAcquire(waiter);
      jitter(round, 200);
      native.lockWaiterRelease(holder); // unlocks on the holder's thread, soon
      jitter(round * 3, 200);
      native.lockWaiterCancel(waiter);
      const report = await resource.report(waiter);
      if (report === 'acquired') {
        // A mutex waiter reports what it got even after a cancel: only it may unlock.
        native.lockWaiterRelease(waiter);
        expect(await resource.report(waiter)).toBe('released');
      } else {
        expect(report).toBe('cancelled');
      }
      expect(await resource.report(holder)).toBe('released');
      native.lockWaiterAcquire(holder);
      expect(await resource.report(holder)).toBe('acquired'); // free, and not owner-dead
    }
  });

  it(`never leaves the mutex stuck when the waiter is closed at once, over ${MUTEX_ROUNDS} rounds`, async () => {
    // Closing a mutex waiter that holds (even an acquisition it had not reported yet) lets its
    // thread exit holding the mutex, as a dying process would: the next locker gets it, told
    // that the owner died. One that had not acquired yet leaves it clean.
    const resource = await makeMutexResource();
    const { holder } = resource;
    const outcomes = { clean: 0, ownerDied: 0 };
    for (let round = 0; round < MUTEX_ROUNDS; round++) {
      const waiter = resource.waiter();
      jitter(round, 200);
      native.lockWaiterRelease(holder);
      jitter(round * 5, 200);
      native.waiterClose(waiter);
      expect(await resource.report(holder)).toBe('released');
      native.lockWaiterAcquire(holder);
      const report = await resource.report(holder);
      expect(['acquired', 'owner-dead']).toContain(report);
      if (report === 'owner-dead') {
        outcomes.ownerDied++;
        native.lockWaiterRelease(holder, { markConsistent: true });
        expect(await resource.report(holder)).toBe('released');
        native.lockWaiterAcquire(holder);
        expect(await resource.report(holder)).toBe('acquired');
      } else {
        outcomes.clean++;
      }
    }
    expect(outcomes.clean + outcomes.ownerDied).toBe(MUTEX_ROUNDS);
  });
});
