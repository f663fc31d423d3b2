import { spawn, spawnSync } from 'node:child_process';

import { lastValueFrom, take, timeout } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { fileLock } from '../src/file-lock/index.js';
import { acquirePermit } from '../src/permit/index.js';
import {
  cleanupLocks,
  lockPath,
  onCleanup,
  removeWork,
  runScript,
  sleep,
  until,
} from './lock-support.js';

afterEach(cleanupLocks);
afterAll(removeWork);

function lock(config: Parameters<typeof fileLock>[0]) {
  const made = fileLock(config);
  onCleanup(() => made.close());
  return made;
}

/** Runs `flock(1)` without waiting (`-n`): 0 when it got the lock, 1 when it is taken. */
function flockNow(file: string, shared = false): number | null {
  return spawnSync('flock', [shared ? '-s' : '-x', '-n', file, 'true']).status;
}

describe('fileLock (flock)', () => {
  it('excludes a second exclusive holder and lets shared holders share', async () => {
    const file = lockPath();
    const exclusive = lock({ path: file });
    const shared = lock({ path: file, mode: 'shared' });
    const first = exclusive.tryAcquire()!;
    expect(first).not.toBeNull();
    expect(exclusive.tryAcquire()).toBeNull(); // a second description, even in this process
    expect(shared.tryAcquire()).toBeNull();
    first.release();
    const a = shared.tryAcquire()!;
    const b = shared.tryAcquire()!;
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(exclusive.tryAcquire()).toBeNull();
    a.release();
    b.release();
    expect(exclusive.active).toBe(0);
  });

  it('contends with the flock(1) command in both directions', async () => {
    const file = lockPath();
    const ours = lock({ path: file });
    const permit = ours.tryAcquire()!;
    expect(flockNow(file)).toBe(1);
    expect(flockNow(file, true)).toBe(1);
    permit.release();
    expect(flockNow(file)).toBe(0);

    // flock(1) holds it until its stdin closes; we wait in a thread meanwhile.
    const shell = spawn('flock', ['-x', file, 'sh', '-c', 'echo held; read line'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    onCleanup(() => shell.kill('SIGKILL'));
    await new Promise<void>((resolve) => shell.stdout.once('data', () => resolve()));
    const waiting = acquirePermit(ours);
    let got = false;
    void waiting.then(() => (got = true));
    await sleep(50);
    expect(got).toBe(false);
    shell.stdin.end();
    const mine = await waiting;
    expect(flockNow(file)).toBe(1);
    mine.release();
    expect(flockNow(file)).toBe(0);
  });

  it('is released by the kernel when its holder is killed with SIGKILL', async () => {
    const file = lockPath();
    const child = runScript(
      'flock-holder',
      `lib.fileLock(${JSON.stringify(file)}).acquire().subscribe(() => console.log('held'));
         setInterval(() => {}, 1000);`,
    );
    await child.line('held');
    const ours = lock({ path: file });
    expect(ours.tryAcquire()).toBeNull();
    const waiting = acquirePermit(ours);
    child.process.kill('SIGKILL');
    const permit = await waiting;
    permit.release();
  });

  it('releases on take and timeout, and cancels a pending wait within 200 ms', async () => {
    const file = lockPath();
    const ours = lock({ path: file });
    await lastValueFrom(ours.acquire().pipe(take(1)));
    expect(flockNow(file)).toBe(0);
    const held = ours.tryAcquire()!;
    const started = performance.now();
    await expect(lastValueFrom(ours.acquire().pipe(timeout(30)))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await until(() => ours.active === 1, 200);
    expect(performance.now() - started).toBeLessThan(230);
    held.release();
    expect(native.waiterCount()).toBe(0);
    expect(flockNow(file)).toBe(0);
  });

  it('errors with ENOENT, in the system-error shape, when the file is missing and create is false', async () => {
    const ours = lock({ path: lockPath('missing'), create: false });
    await expect(lastValueFrom(ours.acquire())).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(() => fileLock({ path: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => fileLock({ path: 'x', start: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe('fileLock (OFD record locks)', () => {
  it('locks byte ranges: disjoint ranges coexist, overlapping ones wait', async () => {
    const file = lockPath('ofd');
    const low = lock({ path: file, type: 'ofd', start: 0, length: 100 });
    const high = lock({ path: file, type: 'ofd', start: 100, length: 100 });
    const middle = lock({ path: file, type: 'ofd', start: 50, length: 100 });
    const a = low.tryAcquire()!;
    const b = high.tryAcquire()!;
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(middle.tryAcquire()).toBeNull();
    const waiting = acquirePermit(middle);
    let got = false;
    void waiting.then(() => (got = true));
    a.release();
    await sleep(30);
    expect(got).toBe(false); // still overlaps [100, 200)
    b.release();
    (await waiting).release();
  });

  it('shares read locks and excludes a write lock on the same range', async () => {
    const file = lockPath('ofd');
    const read = lock({ path: file, type: 'ofd', mode: 'shared', start: 10, length: 10 });
    const write = lock({ path: file, type: 'ofd', start: 15, length: 1 });
    const r1 = read.tryAcquire()!;
    const r2 = read.tryAcquire()!;
    expect(r1).not.toBeNull();
    expect(r2).not.toBeNull();
    expect(write.tryAcquire()).toBeNull();
    r1.release();
    r2.release();
    write.tryAcquire()!.release();
  });

  it('is released by the kernel when its holder is killed with SIGKILL', async () => {
    const file = lockPath('ofd');
    const child = runScript(
      'ofd-holder',
      `lib.fileLock({ path: ${JSON.stringify(file)}, type: 'ofd', start: 0, length: 8 })
         .acquire().subscribe(() => console.log('held'));
         setInterval(() => {}, 1000);`,
    );
    await child.line('held');
    const ours = lock({ path: file, type: 'ofd', start: 4, length: 8 });
    expect(ours.tryAcquire()).toBeNull();
    const waiting = acquirePermit(ours);
    child.process.kill('SIGKILL');
    (await waiting).release();
  });
});
