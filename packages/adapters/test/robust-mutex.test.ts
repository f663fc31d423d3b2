import { firstValueFrom, lastValueFrom, take } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native, type FdHandle, type ShmMappingHandle } from '@rxipc/native';

import { acquirePermit } from '../src/permit/index.js';
import { conditionVariable, robustMutex } from '../src/robust-mutex/index.js';
import { cleanupLocks, onCleanup, removeWork, runScript, sleep, until } from './lock-support.js';

afterEach(cleanupLocks);
afterAll(removeWork);

// Layout of the test segment: the mutex at 0, a condition at 64, counters from 128.
const MUTEX = 0;
const COND = 64;
const DATA = 128;

interface Segment {
  readonly fd: FdHandle;
  readonly mapping: ShmMappingHandle;
  readonly words: Int32Array;
}

/** A 4 KiB memfd segment, mapped here; children inherit it as fd 3 and map it too. */
function segment(): Segment {
  const fd = native.memfdCreate('rxipc-test-mutex');
  native.shmTruncate(fd, 4096);
  const mapping = native.shmMap(fd);
  onCleanup(() => {
    native.shmUnmap(mapping);
    native.fdClose(fd);
  });
  return { fd, mapping, words: new Int32Array(native.shmBuffer(mapping), DATA, 16) };
}

/** A child that maps the segment (fd 3) and runs `body` with `mutex`, `cond` and `words`. */
function child(name: string, seg: Segment, body: string) {
  return runScript(
    name,
    `const mapping = native.shmMap(native.fdAdopt(3));
     const segment = { mapping };
     const mutex = lib.robustMutex({ segment, offset: ${MUTEX} });
     const cond = lib.conditionVariable({ segment, offset: ${COND} });
     const words = new Int32Array(native.shmBuffer(mapping), ${DATA}, 16);
     ${body}`,
    { stdio: ['ignore', 'pipe', 'pipe', native.fdNumber(seg.fd)] },
  );
}

function mutexIn(seg: Segment, init = true) {
  const mutex = robustMutex({ segment: seg, offset: MUTEX, init });
  onCleanup(() => void mutex.close());
  return mutex;
}

describe('robustMutex', () => {
  it('lets one holder at a time in, across acquisitions of one process', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const first = await acquirePermit(mutex);
    expect(first.ownerDied).toBe(false);
    let second = false;
    const waiting = acquirePermit(mutex).then((permit) => {
      second = true;
      return permit;
    });
    await sleep(40);
    expect(second).toBe(false);
    first.release();
    const permit = await waiting;
    permit.release();
    await until(() => mutex.active === 0);
  });

  it('gives the next locker ownerDied after a holder is killed with SIGKILL, and is clean once marked consistent', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const holder = child(
      'mutex-holder',
      seg,
      `mutex.acquire().subscribe(() => { words[0] = 1; console.log('held'); });
       setInterval(() => {}, 1000);`,
    );
    await holder.line('held');
    const waiting = acquirePermit(mutex);
    await sleep(30);
    holder.process.kill('SIGKILL');
    expect(await holder.exited).toBe('SIGKILL');
    const permit = await waiting;
    expect(permit.ownerDied).toBe(true);
    // Repair what the dead holder left half done, then declare it consistent.
    expect(seg.words[0]).toBe(1);
    seg.words[0] = 0;
    permit.markConsistent();
    permit.release();
    const next = await acquirePermit(mutex);
    expect(next.ownerDied).toBe(false);
    next.release();
  });

  it('hands the owner-died mark on when released without markConsistent', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const holder = child(
      'mutex-holder-2',
      seg,
      `mutex.acquire().subscribe(() => console.log('held'));
       setInterval(() => {}, 1000);`,
    );
    await holder.line('held');
    holder.process.kill('SIGKILL');
    await holder.exited;
    const first = await acquirePermit(mutex);
    expect(first.ownerDied).toBe(true);
    first.release(); // not repaired: the next locker must be told
    const second = await acquirePermit(mutex);
    expect(second.ownerDied).toBe(true);
    second.markConsistent();
    second.release();
    const third = await acquirePermit(mutex);
    expect(third.ownerDied).toBe(false);
    third.release();
  });

  it('cancels a pending lock within 200 ms of unsubscribing', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const held = await acquirePermit(mutex);
    const subscription = mutex.acquire().subscribe();
    await sleep(30);
    const started = performance.now();
    subscription.unsubscribe();
    await until(() => mutex.active === 1, 200);
    expect(performance.now() - started).toBeLessThan(200);
    held.release();
    await lastValueFrom(mutex.acquire().pipe(take(1)));
  });

  it('waits on a condition variable with another process', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const changed = conditionVariable({ segment: seg, offset: COND, init: true });
    onCleanup(() => changed.close());
    // The child waits, mutex held, until words[1] reaches 3; the parent counts up.
    const waiter = child(
      'cond-waiter',
      seg,
      `const permit = await lib.acquirePermit(mutex);
       console.log('waiting');
       let wakeups = 0;
       while (words[1] < 3) {
         await rxjs.firstValueFrom(permit.wait(cond, { timeoutMs: 5000 }));
         wakeups++;
       }
       console.log('done', words[1], wakeups);
       permit.release();
       await mutex.close();`,
    );
    await waiter.line('waiting');
    for (let i = 1; i <= 3; i++) {
      const permit = await acquirePermit(mutex);
      seg.words[1] = i;
      changed.broadcast();
      permit.release();
      await sleep(10);
    }
    const done = await waiter.line('done');
    expect(done.startsWith('done 3')).toBe(true);
    expect(await waiter.exited).toBe(0);
  });

  it('emits a wait at the latest after its timeout, holding the mutex again', async () => {
    const seg = segment();
    const mutex = mutexIn(seg);
    const changed = conditionVariable({ segment: seg, offset: COND, init: true });
    onCleanup(() => changed.close());
    const permit = await acquirePermit(mutex);
    const started = performance.now();
    await firstValueFrom(permit.wait(changed, { timeoutMs: 30 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    // Still held: another acquisition waits.
    let other = false;
    const waiting = acquirePermit(mutex).then((p) => {
      other = true;
      return p;
    });
    await sleep(30);
    expect(other).toBe(false);
    permit.release();
    (await waiting).release();
  });

  it('refuses a misplaced mutex with a RangeError', () => {
    const seg = segment();
    expect(() => robustMutex({ segment: seg, offset: 4, init: true })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => robustMutex({ segment: seg, offset: 4090, init: true })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  it('closes after unlocking what it holds, with no thread left', async () => {
    const seg = segment();
    const mutex = robustMutex({ segment: seg, offset: MUTEX, init: true });
    await acquirePermit(mutex);
    const pending = expect(lastValueFrom(mutex.acquire())).rejects.toMatchObject({
      code: 'ERR_RXIPC_LOCK_CLOSED',
    });
    await mutex.close();
    await pending;
    expect(native.waiterCount()).toBe(0);
    // Unlocked, not abandoned: a new handle locks it cleanly.
    const again = robustMutex({ segment: seg, offset: MUTEX });
    const permit = await acquirePermit(again);
    expect(permit.ownerDied).toBe(false);
    permit.release();
    await again.close();
  });
});
