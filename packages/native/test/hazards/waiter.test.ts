import { afterEach, describe, expect, it } from 'vitest';

import { native, type FdHandle, type SystemError, type WaiterHandle } from '../../src/index.js';
import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  killChildren();
});

function counter(): FdHandle {
  const fd = native.eventfd(0);
  cleanups.push(() => native.fdClose(fd));
  return fd;
}

function waiter(fd: FdHandle, callback: (error: SystemError | null) => void): WaiterHandle {
  const handle = native.fdWaiter(fd, callback);
  cleanups.push(() => native.waiterClose(handle));
  return handle;
}

describe('fdWaiter', () => {
  it('reports once when its eventfd is written, then waits to be re-armed', async () => {
    const fd = counter();
    const reports: Array<SystemError | null> = [];
    const handle = waiter(fd, (error) => reports.push(error));
    expect(native.waiterCount()).toBe(1);

    await sleep(20);
    expect(reports).toEqual([]);
    native.eventfdWrite(fd, 1);
    await until(() => reports.length === 1);
    expect(reports).toEqual([null]);

    // Still readable, but disarmed: no second report until waiterArm.
    await sleep(30);
    expect(reports).toHaveLength(1);
    native.waiterArm(handle);
    await until(() => reports.length === 2);

    // Re-armed after the counter was drained: waits for the next write.
    native.eventfdRead(fd);
    native.waiterArm(handle);
    native.waiterArm(handle); // arming an armed waiter is a no-op
    await sleep(30);
    expect(reports).toHaveLength(2);
    native.eventfdWrite(fd, 1);
    await until(() => reports.length === 3);
  });

  it('reports a descriptor that hung up as readable', async () => {
    const [readEnd, writeEnd] = native.pipe();
    cleanups.push(() => native.fdClose(readEnd));
    let reported = false;
    waiter(readEnd, () => (reported = true));
    native.fdClose(writeEnd);
    await until(() => reported);
    expect(native.fdRead(readEnd, Buffer.alloc(1))).toBe(0);
  });

  it('closes within 100 ms while its thread is blocked, and the thread is gone', async () => {
    const fd = counter();
    const handle = waiter(fd, () => {});
    await sleep(20); // let the thread reach poll(2)
    expect(native.waiterCount()).toBe(1);

    const started = performance.now();
    native.waiterClose(handle);
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(100);
    expect(native.waiterCount()).toBe(0);
    native.waiterClose(handle); // idempotent
    expect(() => native.waiterArm(handle)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
  });

  it('never calls back after close, even with a report already queued', async () => {
    const fd = counter();
    let calls = 0;
    const handle = waiter(fd, () => calls++);
    native.eventfdWrite(fd, 1);
    // Block the loop (not the thread) so the report is queued but cannot be delivered yet.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    native.waiterClose(handle);
    await sleep(30);
    expect(calls).toBe(0);
  });

  it('lets the callback close the descriptor it waits on', async () => {
    const fd = native.eventfd(1);
    let calls = 0;
    const handle = native.fdWaiter(fd, () => {
      calls++;
      native.fdClose(fd); // closes (and joins) this very waiter from inside its callback
    });
    await until(() => calls === 1);
    expect(native.waiterCount()).toBe(0);
    expect(() => native.waiterArm(handle)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
  });

  it('is closed with its descriptor', async () => {
    const fd = native.eventfd(0);
    const handle = native.fdWaiter(fd, () => {});
    expect(native.waiterCount()).toBe(1);
    native.fdClose(fd);
    expect(native.waiterCount()).toBe(0);
    expect(() => native.waiterArm(handle)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
  });

  it('checks its arguments', () => {
    const fd = counter();
    expect(() => native.fdWaiter(fd, null as never)).toThrow(TypeError);
    expect(() => native.fdWaiter({} as never, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
    expect(() => native.waiterArm(fd as never)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
    expect(native.waiterCount()).toBe(0);
  });
});

describe('a process with a waiter', () => {
  interface ExitReport {
    readonly mode: string;
    readonly events: readonly string[];
    readonly waiters: number;
  }

  it('exits 0 with process.exit while the waiter thread is blocked', async () => {
    const result = await runChild(fixture('waiter-exit.mjs'), { args: ['exit-blocked'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    expect(result.elapsedMs).toBeLessThan(5000);
    expect(lastJson<ExitReport>(result)).toEqual({ mode: 'exit-blocked', events: [], waiters: 1 });
  });

  it('stays alive while the waiter is armed, and ends once it reported', async () => {
    const result = await runChild(fixture('waiter-exit.mjs'), { args: ['armed-alive'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    expect(result.elapsedMs).toBeGreaterThan(200);
    expect(lastJson<ExitReport>(result)).toMatchObject({ events: ['ready'] });
  });

  it('ends on its own when the waiter is idle (reported, not re-armed)', async () => {
    const result = await runChild(fixture('waiter-exit.mjs'), { args: ['idle'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    // The thread is still there, asleep until re-armed; teardown joins it.
    expect(lastJson<ExitReport>(result)).toEqual({ mode: 'idle', events: ['ready'], waiters: 1 });
  });

  it('raises an exception thrown by the callback as an uncaught exception', async () => {
    const result = await runChild(fixture('waiter-exit.mjs'), { args: ['throws'] });
    // Not swallowed with a DEP0168 warning, as Node does for a pending exception left by a
    // Node-API 8 thread-safe function callback.
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    expect(lastJson<ExitReport>(result).events).toEqual([
      'ready',
      'uncaught: from the waiter callback',
    ]);
  });

  it('ends on its own when the waiter was closed', async () => {
    const result = await runChild(fixture('waiter-exit.mjs'), { args: ['closed'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    expect(lastJson<ExitReport>(result)).toEqual({ mode: 'closed', events: [], waiters: 0 });
  });
});
