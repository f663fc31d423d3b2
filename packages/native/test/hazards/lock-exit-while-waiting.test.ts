import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native, type FdHandle, type PosixSemHandle, type SysvSemHandle } from '../../src/index.js';
import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-lock-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let made: { name: string; sem: PosixSemHandle; set: SysvSemHandle; holder: FdHandle } | undefined;
afterEach(() => {
  killChildren();
  if (made === undefined) return;
  native.semClose(made.sem);
  native.semUnlink(made.name);
  native.sysvSemRemove(made.set);
  native.sysvSemClose(made.set);
  native.fdClose(made.holder);
  made = undefined;
});

/** A taken semaphore, set and lock file, as the fixture's arguments. */
function takenResources(): string[] {
  const name = `/rxipc-test-${process.pid}-exit-${Date.now()}`;
  const sem = native.semOpen(name, { create: true, exclusive: true, value: 0 });
  const set = native.sysvSemGet(0, 1, { create: true });
  const file = path.join(dir, `${Date.now()}.lock`);
  writeFileSync(file, '');
  // r+: the holder places an OFD write lock too.
  const holder = native.fdAdopt(openSync(file, 'r+'));
  native.flock(holder, 'exclusive');
  native.ofdLock(holder, { type: 'write', start: 0, length: 1 });
  made = { name, sem, set, holder };
  return [name, String(native.sysvSemId(set)), file];
}

describe('a process whose lock waiters block in their calls', () => {
  it('exits 0 with process.exit, promptly, however many block', async () => {
    const result = await runChild(fixture('lock-exit.mjs'), {
      args: ['exit', ...takenResources()],
    });
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false });
    expect(lastJson(result)).toEqual({ mode: 'exit', reports: [], waiters: 6 });
    expect(result.elapsedMs).toBeLessThan(5000);
  });

  it('tears a worker down while its waiters block, and the process then ends on its own', async () => {
    const result = await runChild(fixture('lock-exit.mjs'), {
      args: ['worker', ...takenResources()],
    });
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false });
    expect(lastJson(result)).toEqual({ mode: 'worker', waiters: 0 });
  });
});
