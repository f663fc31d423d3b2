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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

describe.each(LOCK_KINDS)('a %s lock waiter blocked in its call', (kind) => {
  it('reports cancelled within 200 ms of lockWaiterCancel, without blocking the loop, and takes nothing', async () => {
    const resource = makeLockResource(kind);
    const record = recorder();
    const waiter = resource.waiter(record.callback);
    record.bind(waiter);
    onCleanup(() => native.waiterClose(waiter));
    await sleep(20); // let the thread enter the blocking call
    expect(native.lockWaiterState(waiter).state).toBe('acquiring');

    const started = performance.now();
    native.lockWaiterCancel(waiter);
    const returnedAfter = performance.now() - started;
    await until(() => record.reports.length === 1, 200);
    expect(returnedAfter).toBeLessThan(20);
    expect(record.reports).toEqual(['cancelled']);
    expect(native.lockWaiterState(waiter).state).toBe('idle');

    // Cancelled means nothing was taken: what is given now is there for the next taker.
    resource.give();
    expect(resource.free()).toBe(true);

    // The same waiter acquires again when asked.
    resource.retake();
    native.lockWaiterAcquire(waiter);
    await sleep(10);
    resource.give();
    await until(() => record.reports.length === 2, 2000);
    expect(record.reports[1]).toBe('acquired');
    expect(resource.free()).toBe(false);
    expect(native.lockWaiterRelease(waiter)).toBe(true);
    expect(resource.free()).toBe(true);
  });

  it('closes within 100 ms while blocked, and its thread is gone', async () => {
    const resource = makeLockResource(kind);
    const before = native.waiterCount();
    const record = recorder();
    const waiter = resource.waiter(record.callback);
    await sleep(20);
    expect(native.waiterCount()).toBe(before + 1);
    const started = performance.now();
    native.waiterClose(waiter);
    expect(performance.now() - started).toBeLessThan(100);
    expect(native.waiterCount()).toBe(before);
    resource.give();
    expect(resource.free()).toBe(true);
    await sleep(10);
    expect(record.reports).toEqual([]);
  });

  it('refuses commands that do not fit its state', async () => {
    const resource = makeLockResource(kind);
    const record = recorder();
    const waiter = resource.waiter(record.callback);
    record.bind(waiter);
    onCleanup(() => native.waiterClose(waiter));
    expect(() => native.lockWaiterAcquire(waiter)).toThrow(
      expect.objectContaining({ code: 'EBUSY', syscall: 'lockWaiterAcquire' }),
    );
    expect(() => native.lockWaiterRelease(waiter)).toThrow(
      expect.objectContaining({ code: 'EBUSY', syscall: 'lockWaiterRelease' }),
    );
    expect(() => native.lockWaiterDisown(waiter)).toThrow(
      expect.objectContaining({ code: 'EBUSY' }),
    );
    const [readEnd] = native.pipe();
    onCleanup(() => native.fdClose(readEnd));
    const other = native.fdWaiter(readEnd, () => {});
    onCleanup(() => native.waiterClose(other));
    expect(() => native.lockWaiterState(other)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
  });
});

describe('a robust mutex waiter blocked in its timed lock', () => {
  it('reports cancelled within 200 ms of lockWaiterCancel and takes nothing', async () => {
    const resource = await makeMutexResource();
    const waiter = resource.waiter();
    onCleanup(() => native.waiterClose(waiter));
    await sleep(30);
    const started = performance.now();
    native.lockWaiterCancel(waiter);
    expect(performance.now() - started).toBeLessThan(20);
    expect(await resource.report(waiter)).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(200);
    // The holder still holds: releasing and locking again is clean.
    expect(native.lockWaiterRelease(resource.holder)).toBe(false);
    expect(await resource.report(resource.holder)).toBe('released');
    native.lockWaiterAcquire(waiter);
    expect(await resource.report(waiter)).toBe('acquired');
    native.lockWaiterRelease(waiter);
    expect(await resource.report(waiter)).toBe('released');
  });

  it('closes within 100 ms while blocked', async () => {
    const resource = await makeMutexResource();
    const before = native.waiterCount();
    const waiter = resource.waiter();
    await sleep(30);
    const started = performance.now();
    native.waiterClose(waiter);
    expect(performance.now() - started).toBeLessThan(100);
    expect(native.waiterCount()).toBe(before);
  });
});

describe('a robust mutex waiter in a long condition wait', () => {
  /** A mutex and a condition in one memfd mapping, and a waiter that holds the mutex. */
  async function condWaiting() {
    const fd = native.memfdCreate('rxipc-cond-hazard');
    native.shmTruncate(fd, 4096);
    const mapping = native.shmMap(fd);
    const mutex = native.robustMutexInit(mapping, 0);
    const cond = native.condInit(mapping, 256);
    onCleanup(() => {
      native.condClose(cond);
      native.robustMutexClose(mutex);
      native.shmUnmap(mapping);
      native.fdClose(fd);
    });
    const reports: string[] = [];
    const waiter: WaiterHandle = native.robustMutexWaiter(mutex, (error) =>
      reports.push(error !== null ? error.code : native.lockWaiterState(waiter).result),
    );
    onCleanup(() => native.waiterClose(waiter));
    await until(() => reports.length === 1, 2000);
    expect(reports[0]).toBe('acquired');
    // Ten seconds: longer than any bound below, so only an interruption can end it in time.
    native.robustMutexCondWait(waiter, cond, { timeoutMs: 10_000 });
    await sleep(30);
    return { cond, waiter, reports };
  }

  it('reports within 200 ms of lockWaiterCancel instead of sitting out the timeout', async () => {
    const { waiter, reports } = await condWaiting();
    const started = performance.now();
    native.lockWaiterCancel(waiter);
    await until(() => reports.length === 2, 2000);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('closes within 100 ms when its condition is closed, its thread gone', async () => {
    const before = native.waiterCount();
    const { cond } = await condWaiting();
    const started = performance.now();
    native.condClose(cond);
    expect(performance.now() - started).toBeLessThan(100);
    expect(native.waiterCount()).toBe(before);
  });
});
