import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { firstValueFrom, lastValueFrom, take, timeout } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { acquirePermit } from '../src/permit/index.js';
import { sysvSemaphoreSet, SEMVMX } from '../src/sysv-sem/index.js';
import {
  cleanupLocks,
  onCleanup,
  removeWork,
  runScript,
  semKey,
  sleep,
  trackSetId,
  until,
  work,
} from './lock-support.js';

afterEach(cleanupLocks);
afterAll(removeWork);

function set(config: Parameters<typeof sysvSemaphoreSet>[0]) {
  const created = sysvSemaphoreSet(config);
  trackSetId(created.id);
  onCleanup(() => created.close());
  return created;
}

describe('sysvSemaphoreSet', () => {
  it('creates a set with mode 0600 and IPC_EXCL, sets its initial values, and opens it by key', () => {
    const key = semKey();
    const sems = set({ key, nsems: 3, initial: [2, 0, 5] });
    expect(sems.created).toBe(true);
    expect(sems.stat()).toMatchObject({ key, nsems: 3, mode: 0o600 });
    expect(sems.values()).toEqual([2, 0, 5]);
    expect(() => sysvSemaphoreSet({ key, nsems: 3 })).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'semget' }),
    );
    const opened = set({ key, create: false });
    expect(opened).toMatchObject({ id: sems.id, nsems: 3, created: false });
    const byId = set({ id: sems.id });
    expect(byId.value(2)).toBe(5);
  });

  it('finds the same set through ftok in two processes', async () => {
    const file = path.join(work, 'ftok-anchor');
    writeFileSync(file, '');
    const sems = set({ key: { path: file, projectId: 42 }, nsems: 1, initial: 0 });
    expect(sems.key).toBe(native.ftok(file, 42));
    const child = runScript(
      'ftok-peer',
      `const set = lib.sysvSemaphoreSet({ key: { path: ${JSON.stringify(file)}, projectId: 42 }, create: false });
       set.post(0, 3);
       console.log('posted', set.id);
       set.close();`,
    );
    await child.line('posted');
    expect(await child.exited).toBe(0);
    expect(sems.value()).toBe(3);
  });

  it('errors with ENOENT for an unknown key and create: false, and refuses bad counts', () => {
    expect(() => sysvSemaphoreSet({ key: semKey(), create: false })).toThrow(
      expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'semget' }),
    );
    for (const nsems of [-1, 1.5]) {
      expect(() => sysvSemaphoreSet({ key: semKey(), nsems })).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(() => sysvSemaphoreSet({ key: semKey(), nsems: 1, initial: -2 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    const sems = set({ key: 'private', nsems: 2 });
    expect(() => sems.acquire({ num: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => sems.acquire({ count: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => sems.tryAcquire({ count: 2.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  it('names SEMMSL when nsems is above it', () => {
    const semmsl = Number(readFileSync('/proc/sys/kernel/sem', 'utf8').split(/\s+/)[0]);
    let caught: unknown;
    try {
      sysvSemaphoreSet({ key: semKey(), nsems: semmsl + 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'EINVAL', syscall: 'semget' });
    expect((caught as Error).message).toContain(`SEMMSL ${semmsl}`);
  });

  it('errors with ERANGE, in the system-error shape, for an operation beyond SEMVMX', () => {
    const sems = set({ key: 'private', nsems: 1, initial: SEMVMX });
    let caught: unknown;
    try {
      sems.post(0, 1);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERANGE', errno: -34, syscall: 'semop' });
    expect((caught as Error).message).toContain('SEMVMX (32767)');
    expect(() => sems.op([{ num: 0, op: 40_000 }])).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => sems.setValue(0, SEMVMX + 1)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  it('takes from several semaphores atomically, or waits for all of them', async () => {
    const sems = set({ key: 'private', nsems: 2, initial: [1, 0] });
    const got = acquirePermit({ acquire: () => sems.acquire([{ num: 0 }, { num: 1 }]) });
    await sleep(30);
    // Nothing taken while one of the two is empty: all or none.
    expect(sems.values()).toEqual([1, 0]);
    sems.post(1);
    const permit = await got;
    expect(sems.values()).toEqual([0, 0]);
    permit.release();
    expect(sems.values()).toEqual([1, 1]);
    expect(
      sems.op([
        { num: 0, op: -1 },
        { num: 1, op: 1 },
      ]),
    ).toBe(true);
    expect(sems.values()).toEqual([0, 2]);
    expect(sems.op([{ num: 0, op: -1 }])).toBe(false);
  });

  it('releases on take and timeout, and cancels a pending wait within 200 ms', async () => {
    const sems = set({ key: 'private', nsems: 1, initial: 1 });
    await lastValueFrom(sems.acquire().pipe(take(1)));
    expect(sems.value()).toBe(1);
    const held = sems.tryAcquire()!;
    await expect(lastValueFrom(sems.acquire().pipe(timeout(30)))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await until(() => sems.active === 1, 200);
    held.release();
    expect(sems.value()).toBe(1);
    expect(sems.info(0)).toMatchObject({ value: 1, ncnt: 0 });
  });

  it('wakes a waiter with EIDRM when the set is removed', async () => {
    const sems = set({ key: 'private', nsems: 1, initial: 0 });
    const pending = firstValueFrom(sems.acquire());
    await until(() => sems.info(0).ncnt === 1);
    sems.remove();
    await expect(pending).rejects.toMatchObject({ code: 'EIDRM', syscall: 'semop' });
  });

  it('gives back the count of a holder killed by SIGKILL (SEM_UNDO)', async () => {
    const sems = set({ key: 'private', nsems: 2, initial: [1, 1] });
    const child = runScript(
      'undo-holder',
      `const set = lib.sysvSemaphoreSet({ id: ${sems.id} });
       set.acquire([{ num: 0 }, { num: 1 }]).subscribe(() => console.log('held'));
         setInterval(() => {}, 1000);`,
    );
    await child.line('held');
    expect(sems.values()).toEqual([0, 0]);
    const waiting = acquirePermit({ acquire: () => sems.acquire([{ num: 0 }, { num: 1 }]) });
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    const permit = await waiting;
    expect(sems.values()).toEqual([0, 0]);
    permit.release();
    expect(sems.values()).toEqual([1, 1]);
  });

  it('passes counts between processes with post() and wait(), which use no undo', async () => {
    const sems = set({ key: 'private', nsems: 1, initial: 0 });
    const child = runScript(
      'poster',
      `const set = lib.sysvSemaphoreSet({ id: ${sems.id} });
       set.post(0, 2);
       set.close();`,
    );
    await firstValueFrom(sems.wait());
    expect(await child.exited).toBe(0);
    // The poster exited; its post stays (no SEM_UNDO on a transfer).
    expect(sems.value()).toBe(1);
  });
});
