import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import {
  defer,
  finalize,
  firstValueFrom,
  from,
  lastValueFrom,
  map,
  mergeMap,
  Subject,
  take,
  takeUntil,
  throwError,
  timeout,
  timer,
  toArray,
} from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { acquirePermit, withPermit } from '../src/permit/index.js';
import { listNamedObjects } from '../src/registry/named-objects.js';
import {
  posixSemaphore,
  reclaimSemaphoreLeases,
  sharedSemaphore,
  SEM_VALUE_MAX,
} from '../src/semaphore/index.js';
import {
  cleanupLocks,
  onCleanup,
  removeWork,
  runScript,
  semExists,
  semName,
  sleep,
  until,
  work,
} from './lock-support.js';

afterEach(cleanupLocks);
afterAll(removeWork);

function semaphore(initial = 1, name = semName()) {
  const sem = posixSemaphore({ name, initial });
  onCleanup(() => sem.close());
  return sem;
}

describe('posixSemaphore', () => {
  it('creates the semaphore with mode 0600 and O_EXCL unless asked otherwise', () => {
    const name = semName();
    const sem = semaphore(3, name);
    expect(statSync(`/dev/shm/sem.${name.slice(1)}`).mode & 0o777).toBe(0o600);
    expect(sem.created).toBe(true);
    expect(sem.value()).toBe(3);
    expect(() => posixSemaphore({ name })).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'sem_open', path: name }),
    );
    const opened = posixSemaphore({ name, create: false });
    onCleanup(() => opened.close());
    expect(opened.created).toBe(false);
    expect(opened.value()).toBe(3);
    const either = posixSemaphore({ name, exclusive: false, mode: 0o644 });
    onCleanup(() => either.close());
    expect(either.created).toBe(false);
  });

  it('errors with ENOENT, in the system-error shape, for an unknown name and create: false', () => {
    const name = semName();
    let caught: unknown;
    try {
      posixSemaphore({ name, create: false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'sem_open', path: name });
    expect((caught as Error).message).toMatch(/^ENOENT: no such file or directory, sem_open/);
  });

  it('refuses a negative, fractional or too large count with a RangeError', () => {
    for (const initial of [-1, 1.5, NaN, SEM_VALUE_MAX + 1]) {
      expect(() => posixSemaphore({ name: semName(), initial })).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(() => posixSemaphore({ name: 'no-slash' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('emits a permit and gives the count back when the subscription ends', async () => {
    const sem = semaphore(1);
    const permits: unknown[] = [];
    const subscription = sem.acquire().subscribe((permit) => permits.push(permit));
    expect(permits).toHaveLength(1);
    expect(sem.value()).toBe(0);
    subscription.unsubscribe();
    expect(sem.value()).toBe(1);
  });

  it('releases on take, timeout, takeUntil and an error downstream', async () => {
    const sem = semaphore(1);
    await lastValueFrom(sem.acquire().pipe(take(1)));
    expect(sem.value()).toBe(1);

    const stop = new Subject<void>();
    const held = lastValueFrom(sem.acquire().pipe(takeUntil(stop)), { defaultValue: null });
    expect(sem.value()).toBe(0);
    stop.next();
    await held;
    expect(sem.value()).toBe(1);

    const failing = lastValueFrom(
      sem.acquire().pipe(mergeMap(() => throwError(() => new Error('boom')))),
    );
    await expect(failing).rejects.toThrow('boom');
    expect(sem.value()).toBe(1);

    // timeout while holding: the permit goes with the error
    const timedOut = lastValueFrom(sem.acquire().pipe(timeout({ each: 20, first: 1000 })));
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sem.value()).toBe(1);

    // timeout while waiting: the wait is cancelled and nothing is taken
    const other = sem.tryAcquire()!;
    await expect(lastValueFrom(sem.acquire().pipe(timeout(30)))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    other.release();
    await sleep(20);
    expect(sem.value()).toBe(1);
    expect(sem.active).toBe(0);
  });

  it('waits in a thread of its own while the event loop keeps turning', async () => {
    const sem = semaphore(0);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      const got = acquirePermit(sem);
      await sleep(50);
      expect(ticks).toBeGreaterThan(10);
      sem.post();
      const permit = await got;
      expect(sem.value()).toBe(0);
      permit.release();
      expect(sem.value()).toBe(1);
    } finally {
      clearInterval(ticker);
    }
  });

  it('cancels a pending wait within 200 ms of unsubscribing and takes nothing', async () => {
    const sem = semaphore(0);
    const subscription = sem.acquire().subscribe();
    await sleep(30);
    const started = performance.now();
    subscription.unsubscribe();
    await until(() => sem.active === 0, 200);
    expect(performance.now() - started).toBeLessThan(200);
    sem.post();
    expect(sem.value()).toBe(1);
  });

  it('limits the inner observables of withPermit to the count, across a mergeMap', async () => {
    const sem = semaphore(2);
    let running = 0;
    let most = 0;
    const job = (n: number) =>
      defer(() => {
        running++;
        most = Math.max(most, running);
        return timer(10).pipe(
          map(() => n),
          finalize(() => running--),
        );
      });
    const done = await lastValueFrom(
      from([1, 2, 3, 4, 5, 6, 7, 8]).pipe(
        mergeMap((n) => withPermit(sem)(job(n))),
        toArray(),
      ),
    );
    expect(done.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(most).toBe(2);
    expect(sem.value()).toBe(2);
  });

  it('posts, tries and takes for good with wait()', async () => {
    const sem = semaphore(0);
    expect(sem.tryAcquire()).toBeNull();
    expect(sem.tryWait()).toBe(false);
    sem.post();
    sem.post();
    expect(sem.value()).toBe(2);
    const permit = sem.tryAcquire()!;
    expect(sem.value()).toBe(1);
    permit.release();
    permit.release(); // idempotent
    expect(permit.released).toBe(true);
    expect(sem.value()).toBe(2);
    await firstValueFrom(sem.wait());
    expect(sem.value()).toBe(1);
    expect(sem.tryWait()).toBe(true);
    expect(sem.value()).toBe(0);
    const waiting = firstValueFrom(sem.wait());
    await sleep(10);
    sem.post();
    await waiting;
    expect(sem.value()).toBe(0);
  });

  it('says EOVERFLOW when a post would pass SEM_VALUE_MAX', () => {
    const sem = semaphore(SEM_VALUE_MAX);
    expect(() => sem.post()).toThrow(
      expect.objectContaining({ code: 'EOVERFLOW', syscall: 'sem_post' }),
    );
  });

  it('releases what it holds and errors pending acquisitions on close, and unlinks its name', async () => {
    const name = semName();
    const sem = posixSemaphore({ name, initial: 1 });
    const watcher = posixSemaphore({ name, create: false });
    onCleanup(() => watcher.close());
    sem.acquire().subscribe();
    const pending = expect(lastValueFrom(sem.acquire())).rejects.toMatchObject({
      code: 'ERR_RXIPC_LOCK_CLOSED',
    });
    await sleep(10);
    expect(watcher.value()).toBe(0);
    sem.close();
    await pending;
    expect(watcher.value()).toBe(1);
    expect(semExists(name)).toBe(false);
    expect(() => sem.post()).toThrow(expect.objectContaining({ code: 'ERR_RXIPC_LOCK_CLOSED' }));
    expect(native.waiterCount()).toBe(0);
  });

  it('is taken and given back by another process', async () => {
    const name = semName();
    const sem = semaphore(1, name);
    const child = runScript(
      'hold-and-release',
      `const sem = lib.posixSemaphore({ name: ${JSON.stringify(name)}, create: false });
       const permit = await lib.acquirePermit(sem);
       console.log('held');
       await new Promise((r) => setTimeout(r, 100));
       permit.release();
       sem.close();
       console.log('released');`,
    );
    await child.line('held');
    expect(sem.tryAcquire()).toBeNull();
    const permit = await acquirePermit(sem, { signal: AbortSignal.timeout(10_000) });
    await child.line('released');
    permit.release();
    expect(await child.exited).toBe(0);
  });
});

describe('sharedSemaphore', () => {
  it('places an unnamed process-shared semaphore in a memfd segment that a child maps too', async () => {
    const fd = native.memfdCreate('rxipc-test-sem');
    native.shmTruncate(fd, 4096);
    const mapping = native.shmMap(fd);
    onCleanup(() => {
      native.shmUnmap(mapping);
      native.fdClose(fd);
    });
    const sem = sharedSemaphore({ segment: { mapping }, offset: 64, initial: 0 });
    onCleanup(() => sem.close());
    const child = runScript(
      'shared-sem-child',
      `const fd = native.fdAdopt(3);
       const mapping = native.shmMap(fd);
       const sem = lib.sharedSemaphore({ segment: { mapping }, offset: 64 });
       await rxjs.firstValueFrom(sem.wait());
       console.log('woken');
       sem.post();
       sem.post();
       sem.close();
       native.shmUnmap(mapping);`,
      { stdio: ['ignore', 'pipe', 'pipe', native.fdNumber(fd)] },
    );
    await sleep(100);
    expect(child.stdout()).not.toContain('woken');
    sem.post();
    await child.line('woken');
    expect(await child.exited).toBe(0);
    expect(sem.value()).toBe(2);
    expect(() => sharedSemaphore({ segment: { mapping }, offset: 3, initial: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });
});

describe('semaphore leases', () => {
  // A registry of our own, shared with the children through the environment.
  const previous = process.env['RXIPC_REGISTRY_DIR'];
  const registry = mkdtempSync(path.join(work, 'registry-'));
  process.env['RXIPC_REGISTRY_DIR'] = registry;
  afterAll(() => {
    if (previous === undefined) delete process.env['RXIPC_REGISTRY_DIR'];
    else process.env['RXIPC_REGISTRY_DIR'] = previous;
    rmSync(registry, { recursive: true, force: true });
  });

  it('leaves the count of a holder killed by SIGKILL taken, and reclaims it from the lease', async () => {
    const name = semName('lease');
    const sem = posixSemaphore({ name, initial: 2, leases: true });
    onCleanup(() => sem.close());
    const holder = (tag: string) =>
      runScript(
        `lease-holder-${tag}`,
        `const sem = lib.posixSemaphore({ name: ${JSON.stringify(name)}, create: false, leases: true });
         sem.acquire().subscribe(() => console.log('held'));
         setInterval(() => {}, 1000);`,
      );
    const doomed = holder('doomed');
    const alive = holder('alive');
    await doomed.line('held');
    await alive.line('held');
    expect(sem.value()).toBe(0);
    const leases = () => listNamedObjects().filter((e) => e.kind === 'posix-sem-lease');
    expect(leases()).toHaveLength(2);

    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    // sem_overview(7): no undo. The kernel gives nothing back.
    await sleep(50);
    expect(sem.value()).toBe(0);

    const reclaimed = reclaimSemaphoreLeases({ name });
    expect(reclaimed).toEqual([{ semaphore: name, pid: doomed.process.pid, outcome: 'posted' }]);
    expect(sem.value()).toBe(1);
    // The live holder's lease stays, and a second janitor finds nothing to do.
    expect(leases().map((e) => e.pid)).toEqual([alive.process.pid]);
    expect(reclaimSemaphoreLeases({ name })).toEqual([]);
    expect(sem.value()).toBe(1);

    // A holder that exits normally gives its count back and drops its lease.
    alive.process.kill('SIGTERM');
    await alive.exited;
    await until(() => sem.value() === 2);
    expect(leases()).toEqual([]);
  });

  it('records a lease per permit held and drops it on release', () => {
    const sem = posixSemaphore({ name: semName('lease'), initial: 3, leases: true });
    onCleanup(() => sem.close());
    const a = sem.tryAcquire()!;
    const b = sem.tryAcquire()!;
    const mine = () =>
      listNamedObjects().filter((e) => e.kind === 'posix-sem-lease' && e.pid === process.pid);
    expect(mine()).toHaveLength(2);
    a.release();
    expect(mine()).toHaveLength(1);
    b.release();
    expect(mine()).toHaveLength(0);
    expect(sem.value()).toBe(3);
  });
});
