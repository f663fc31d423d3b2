import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

import { afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { posixShm, sharedValue, type SharedValue } from '../src/index.js';
import { uniformCodec } from './fixtures/uniform-codec.js';
import { existingShm, removeShm, shmName, tsFixtureArgs } from './shm-support.js';

const cells = new Set<SharedValue<unknown>>();
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const cell of cells) cell.close();
  cells.clear();
  removeShm();
});

function cell<T>(options: Parameters<typeof sharedValue<T>>[0]): SharedValue<T> {
  const value = sharedValue<T>(options);
  cells.add(value as SharedValue<unknown>);
  return value;
}

/** Runs the child fixture; resolves when it exits 0. */
function child(role: string, name: string, n: number): Promise<void> {
  const proc = spawn(
    process.execPath,
    [...tsFixtureArgs('shared-value-child.mts'), role, name, String(n)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(proc);
  let err = '';
  proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => {
      children.delete(proc);
      if (code === 0) resolve();
      else reject(new Error(`${role} exited with ${code}: ${err}`));
    });
  });
}

/** A pid that no process has now (a child that has already exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('sharedValue', () => {
  it('starts with the initial value, which every instance of the name reads', () => {
    const name = shmName();
    const a = cell({ name, initial: { level: 'info', n: 1 } });
    const b = cell<{ level: string; n: number }>({ name, create: 'never' });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.value).toEqual({ level: 'info', n: 1 });
    b.next({ level: 'debug', n: 2 });
    expect(a.value).toEqual({ level: 'debug', n: 2 });
  });

  it('emits the current value on subscribe, then each write from this process at once', () => {
    const value = cell({ name: shmName(), initial: 0 });
    const seen: number[] = [];
    const subscription = value.subscribe((v) => seen.push(v));
    value.next(1);
    value.next(2);
    expect(seen).toEqual([0, 1, 2]);
    subscription.unsubscribe();
    value.next(3);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('emits what another process writes, in order, ending with its last write', async () => {
    const name = shmName();
    const value = cell({ name, initial: 0 });
    const seen: number[] = [];
    value.subscribe((v) => seen.push(v));
    await child('writer', name, 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(200);
    expect(seen.every((v, i) => i === 0 || v > seen[i - 1]!)).toBe(true);
  });

  it('never lets a reader see a torn value while another process writes', async () => {
    const name = shmName();
    const value = cell({ name, initial: 0, codec: uniformCodec, maxBytes: 4000 });
    const hammering = child('hammer', name, 1500);
    let reads = 0;
    const distinct = new Set<number>();
    // Wait until the child is writing (starting it can take a while on a busy machine).
    while (value.value === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const until = Date.now() + 500;
    while (Date.now() < until) {
      for (let i = 0; i < 200; i++) distinct.add(value.value); // throws on a torn value
      reads += 200;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await hammering;
    expect(reads).toBeGreaterThan(1000);
    expect(distinct.size).toBeGreaterThan(1); // the writes were really happening
  });

  it('serializes update() across processes: no increment is lost', async () => {
    const name = shmName();
    const value = cell({ name, initial: 0 });
    const other = child('incrementer', name, 2000);
    for (let i = 0; i < 2000; i++) {
      value.update((v) => v + 1);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await other;
    expect(value.value).toBe(4000);
  });

  it('takes over the writers lock from a process that died holding it', () => {
    const name = shmName();
    const value = cell({ name, initial: 1 });
    const raw = posixShm({ name });
    try {
      Atomics.store(new Int32Array(raw.buffer), 5, deadPid()); // LOCK
      value.next(2);
      expect(value.value).toBe(2);
      expect(Atomics.load(new Int32Array(raw.buffer), 5)).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('reports a write left half-done by a dead process, until the next write repairs it', () => {
    const name = shmName();
    const value = cell({ name, initial: 1 });
    const raw = posixShm({ name });
    try {
      const words = new Int32Array(raw.buffer);
      const dead = deadPid();
      Atomics.store(words, 5, dead); // LOCK held by the dead writer...
      Atomics.add(words, 4, 1); // ...and SEQ odd: it died in the middle
      expect(() => value.value).toThrow(
        expect.objectContaining({ code: 'ERR_RXIPC_PEER_DIED', pid: dead }),
      );
      value.next(3);
      expect(value.value).toBe(3);
      expect(Atomics.load(words, 4) % 2).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('gives up after maxWaitMs on a cell a live process keeps locked or half-written', () => {
    const name = shmName();
    const value = cell({ name, initial: 1, maxWaitMs: 30 });
    const raw = posixShm({ name });
    // A live pid that is not ours: a stopped writer looks like this.
    const live = spawn('sleep', ['30']);
    children.add(live);
    try {
      const words = new Int32Array(raw.buffer);
      Atomics.store(words, 5, live.pid!); // LOCK
      let started = performance.now();
      expect(() => value.next(2)).toThrow(
        expect.objectContaining({ code: 'ERR_RXIPC_SHM_BUSY', pid: live.pid }),
      );
      const lockWait = performance.now() - started;
      Atomics.add(words, 4, 1); // SEQ odd: in the middle of a write
      started = performance.now();
      expect(() => value.value).toThrow(/has been half-written by pid \d+ for over 30 ms/);
      const readWait = performance.now() - started;
      for (const waited of [lockWait, readWait]) {
        expect(waited).toBeGreaterThanOrEqual(29);
        expect(waited).toBeLessThan(1000);
      }
      // The writer finishes: everything works again, and nothing was changed meanwhile.
      Atomics.add(words, 4, 1);
      Atomics.store(words, 5, 0);
      expect(value.value).toBe(1);
      value.next(3);
      expect(value.value).toBe(3);
      expect(() => cell({ name: shmName(), initial: 0, maxWaitMs: -1 })).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
    } finally {
      raw.close();
    }
  });

  it('completes subscribers and removes a cell it created on close; persist keeps it', () => {
    const name = shmName();
    const value = sharedValue({ name, initial: 'x' });
    let completed = false;
    value.subscribe({ complete: () => (completed = true) });
    value.close();
    expect(completed).toBe(true);
    expect(existingShm()).toEqual([]);
    expect(() => value.value).toThrow(expect.objectContaining({ code: 'ERR_RXIPC_SHM_CLOSED' }));

    const kept = shmName();
    sharedValue({ name: kept, initial: 'y', persist: true }).close();
    const again = cell<string>({ name: kept, create: 'never' });
    expect(again.value).toBe('y');
  });

  it('refuses a value larger than the cell, naming both sizes', () => {
    const value = cell({ name: shmName(), initial: '', maxBytes: 16 });
    expect(() => value.next('x'.repeat(100))).toThrow(
      expect.objectContaining({
        code: 'ERR_RXIPC_FRAME_TOO_LARGE',
        message: expect.stringMatching(/16 bytes.*102 bytes/),
      }),
    );
  });

  it('refuses a segment that is not a shared value, and a missing initial value', () => {
    const name = shmName();
    const segment = posixShm({ name, size: 8192 });
    try {
      Atomics.store(new Int32Array(segment.buffer), 3, 1); // "ready", but no magic
      expect(() => sharedValue({ name, create: 'never' })).toThrow(
        expect.objectContaining({ code: 'ERR_RXIPC_SHM_LAYOUT' }),
      );
    } finally {
      segment.close();
    }
    expect(() => sharedValue({ name: shmName() })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('gives up on a cell its creator never finished within a few milliseconds', () => {
    const name = shmName();
    // Created but never sized or marked ready: a creator that died while setting it up.
    native.fdClose(native.shmOpen(name, { create: true, exclusive: true, mode: 0o600 }));
    const started = performance.now();
    expect(() => sharedValue({ name, create: 'never' })).toThrow(
      expect.objectContaining({
        code: 'ERR_RXIPC_SHM_LAYOUT',
        message: expect.stringMatching(/still had 0 bytes after 5 ms.*rxipc clean/),
      }),
    );
    expect(performance.now() - started).toBeLessThan(50);
  });
});
