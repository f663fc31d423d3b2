import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { linkSync } from 'node:fs';

import * as E from 'fp-ts/lib/Either.js';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { forgetNamedObject, open, posixShm, shmRing, type Channel } from '../src/index.js';
import {
  DATA_OFFSET,
  DEFAULT_SLOT_SIZE,
  DEFAULT_SLOTS,
  HEADER,
  MAGIC,
  ringGeometry,
  SIDE,
  SIDE_STATE,
  sideOffset,
  VERSION,
} from '../src/shm-ring/layout.js';
import { openRingSegment } from '../src/shm-ring/ring-segment.js';
import { parseShmRingUri } from '../src/shm-ring/uri.js';
import { orThrow, splitUri } from '../src/uri/uri.js';
import { cleanUpAfterEach, existingShm, shmName, tsFixtureArgs } from './shm-support.js';

const { children, channels } = cleanUpAfterEach();

function ring(uri: string): Channel {
  const channel = open(uri);
  channels.add(channel);
  return channel;
}

function ringChild(args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [...tsFixtureArgs('ring-child.mts'), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) early: ${err}`)));
  });
  return { child, ready };
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/**
 * A ring segment as a creator leaves it when it stops (or dies) part-way through setting it
 * up: created, and sized only with `size`; the header is written by `finish`, READY last, as
 * ring-segment.ts does.
 */
function halfCreatedRing(
  name: string,
  size?: number,
): { words(): Int32Array; finish(): void; close(): void } {
  const fd = native.shmOpen(name, { create: true, exclusive: true, mode: 0o600 });
  let mapping: ReturnType<typeof native.shmMap> | undefined;
  try {
    if (size !== undefined) {
      native.shmTruncate(fd, size);
      mapping = native.shmMap(fd);
    }
  } finally {
    native.fdClose(fd);
  }
  return {
    words: () => new Int32Array(native.shmBuffer(mapping!)),
    finish() {
      const i32 = new Int32Array(native.shmBuffer(mapping!));
      const geometry = ringGeometry(DEFAULT_SLOTS, DEFAULT_SLOT_SIZE);
      i32[HEADER.VERSION >> 2] = VERSION;
      i32[HEADER.CAPACITY >> 2] = geometry.capacity;
      i32[HEADER.MAX_MESSAGE >> 2] = geometry.slotSize;
      i32[HEADER.SLOTS >> 2] = geometry.slots;
      i32[HEADER.DATA_OFFSET >> 2] = DATA_OFFSET;
      Atomics.store(i32, HEADER.MAGIC >> 2, MAGIC);
      Atomics.store(i32, HEADER.READY >> 2, 1);
    },
    close() {
      if (mapping !== undefined) native.shmUnmap(mapping);
      mapping = undefined;
    },
  };
}

/** Runs `work` with a 5 ms interval on the event loop; returns its outcome and the longest gap. */
async function withTicker<T>(
  work: () => Promise<T>,
): Promise<{ outcome: PromiseSettledResult<T>; maxGapMs: number; elapsedMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    const [outcome] = await Promise.allSettled([work()]);
    const now = performance.now();
    return {
      outcome: outcome!,
      maxGapMs: Math.max(maxGapMs, now - last),
      elapsedMs: now - started,
    };
  } finally {
    clearInterval(ticker);
  }
}

describe('shm ring', () => {
  it('removes its name as soon as both parties have joined, and keeps working', async () => {
    const name = shmName();
    const a = ring(`shm:${name}`);
    const b = ring(`shm:${name}`);
    const received = firstValueFrom(b);
    expect(existingShm()).toEqual([name]); // b has created it; a has not joined yet
    await a.send(bytes(1, 2, 3));
    expect(existingShm()).toEqual([]);
    expect([...(await received)]).toEqual([1, 2, 3]);
    const back = firstValueFrom(a);
    await b.send(bytes(4));
    expect([...(await back)]).toEqual([4]);
  });

  it('refuses a third party with ERR_RXIPC_SHM_RING_BUSY', async () => {
    const name = shmName();
    const alias = shmName();
    const a = ring(`shm:${name}`);
    await a.send(bytes(1)); // creates
    // A second name for the same segment (a hard link in /dev/shm), still there after the
    // second party has removed the first one.
    linkSync(`/dev/shm${name}`, `/dev/shm${alias}`);
    const b = ring(`shm:${name}`);
    await b.send(bytes(2)); // joins
    expect(existingShm()).toEqual([alias]);
    const c = ring(`shm:${alias}`);
    await expect(c.send(bytes(3))).rejects.toMatchObject({
      code: 'ERR_RXIPC_SHM_RING_BUSY',
      message: expect.stringContaining('already has two parties'),
    });
  });

  it('makes send wait while the ring is full, and resumes when the reader takes messages', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}?slots=2&slotSize=1024`);
    const message = new Uint8Array(1024);
    const settled: number[] = [];
    const sends = Array.from({ length: 8 }, (_, i) =>
      writer.send(message).then(() => settled.push(i)),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The ring holds at least 2 and far fewer than 8 messages of 1 KiB: the rest wait.
    expect(settled.length).toBeGreaterThanOrEqual(2);
    expect(settled.length).toBeLessThan(8);
    expect(writer.pending).toBe(8 - settled.length);
    const reader = ring(`shm:${name}`);
    const all = lastValueFrom(reader.pipe(take(8), toArray()));
    await Promise.all(sends);
    expect(settled).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect((await all).length).toBe(8);
  });

  it('carries messages of every size up to slotSize through many laps of a small ring', async () => {
    const name = shmName();
    // Both with the geometry: whichever is used first creates the ring.
    const writer = ring(`shm:${name}?slots=3&slotSize=3000`);
    const reader = ring(`shm:${name}?slots=3&slotSize=3000`);
    let seed = 1;
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sizes = Array.from({ length: 5000 }, (_, i) =>
      i % 97 === 0 ? 3000 : i % 89 === 0 ? 0 : Math.floor(random() * 3000),
    );
    const received = lastValueFrom(reader.pipe(take(sizes.length), toArray()));
    for (const [i, size] of sizes.entries()) {
      if (writer.pending >= writer.highWaterMark) await writer.ready();
      const message = new Uint8Array(size);
      for (let j = 0; j < size; j += 97) message[j] = (i + j) & 0xff;
      writer.next(message);
    }
    const got = await received;
    for (const [i, size] of sizes.entries()) {
      expect(got[i]!.byteLength).toBe(size);
      for (let j = 0; j < size; j += 97) {
        if (got[i]![j] !== ((i + j) & 0xff)) throw new Error(`message ${i} byte ${j} differs`);
      }
    }
  });

  it('delivers every message present on one wake-up', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}`);
    const reader = ring(`shm:${name}`);
    let turn = 0;
    const timer = setInterval(() => turn++, 0);
    const turns = new Set<number>();
    const received = lastValueFrom(reader.pipe(take(500), toArray()));
    reader.subscribe(() => turns.add(turn)); // a second subscriber sees the same emissions
    await new Promise((resolve) => setTimeout(resolve, 20)); // the reader is asleep now
    for (let i = 0; i < 500; i++) writer.next(bytes(i & 0xff));
    await received;
    clearInterval(timer);
    expect(turns.size).toBe(1);
  });

  it('wakes a sleeping reader once per burst of messages, not once per message', async () => {
    const name = shmName();
    let wakes = 0;
    const counting = new Proxy(native, {
      get(target, key, receiver) {
        if (key === 'futexWake') {
          return (...args: Parameters<typeof native.futexWake>) => {
            wakes++;
            return target.futexWake(...args);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const writer = shmRing(`shm:${name}`, { binding: counting });
    const reader = ring(`shm:${name}`);
    channels.add(writer);
    let received = 0;
    let burstDone: () => void = () => {};
    reader.subscribe(() => {
      received++;
      // A second burst, sent from the subscriber: it goes out once this delivery is over.
      if (received === 1000) for (let i = 0; i < 1000; i++) writer.next(bytes(2));
      if (received === 2000) burstDone();
    });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the reader is asleep
    const done = new Promise<void>((resolve) => (burstDone = resolve));
    for (let i = 0; i < 1000; i++) writer.next(bytes(1));
    await done;
    expect(wakes).toBeLessThanOrEqual(2);
  });

  it('ends the reader after complete(), once everything sent is delivered', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}`);
    const reader = ring(`shm:${name}`);
    const all = lastValueFrom(reader.pipe(toArray()));
    for (let i = 0; i < 100; i++) writer.next(bytes(i));
    writer.complete();
    expect((await all).map((m) => m[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('fails a send with EPIPE once the other side has closed', async () => {
    const name = shmName();
    const a = ring(`shm:${name}`);
    const b = ring(`shm:${name}`);
    await a.send(bytes(1));
    await firstValueFrom(b);
    await b.close();
    await expect(a.send(bytes(2))).rejects.toMatchObject({ code: 'EPIPE', errno: -32 });
  });

  it('copies large messages out whole, past the CPU cache size and at odd lengths, into memory the subscriber keeps', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}?slots=2&slotSize=3145728`);
    const reader = ring(`shm:${name}?slots=2&slotSize=3145728`);
    // Sizes around COPY_ALONE (32 KiB) and the L2 sizes of common CPUs (512 KiB to 2 MiB),
    // where shmCopyOut switches to non-temporal stores; odd sizes leave ragged ends.
    const sizes = [32 * 1024, 524_289, 1_048_573, 1_048_576, 2_097_155, 3_145_728, 40_001];
    const pattern = (i: number, size: number): Uint8Array => {
      const message = new Uint8Array(size);
      for (let j = 0; j < size; j++) message[j] = (j * 31 + i * 7 + (j >> 11)) & 0xff;
      return message;
    };
    const received = lastValueFrom(reader.pipe(take(sizes.length), toArray()));
    for (const [i, size] of sizes.entries()) await writer.send(pattern(i, size));
    const got = await received;
    // Every message was checked after all the later ones went through the ring: each is a
    // copy of its own.
    for (const [i, size] of sizes.entries()) {
      expect(Buffer.from(got[i]!).equals(pattern(i, size))).toBe(true);
    }
  });

  it('lends large messages zero-copy, valid while next runs and detached after', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}`);
    const reader = ring(`shm:${name}?zeroCopy=true&zeroCopyMinSize=4096`);
    const seen: { length: number; first: number; view: Uint8Array }[] = [];
    const done = new Promise<void>((resolve) => {
      reader.subscribe((message) => {
        seen.push({ length: message.byteLength, first: message[0]!, view: message });
        if (seen.length === 3) resolve();
      });
    });
    await writer.send(new Uint8Array(8192).fill(5));
    await writer.send(bytes(6, 6)); // small: copied
    await writer.send(new Uint8Array(4096).fill(7));
    await done;
    expect(seen.map(({ length, first }) => [length, first])).toEqual([
      [8192, 5],
      [2, 6],
      [4096, 7],
    ]);
    expect(seen[0]!.view.byteLength).toBe(0); // given back: detached
    expect(seen[1]!.view.byteLength).toBe(2); // a copy: the subscriber's to keep
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen[2]!.view.byteLength).toBe(0); // given back when the reader went to sleep
  });

  it('polls before sleeping when spinMicros is set, and still delivers', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}`);
    const reader = ring(`shm:${name}?spinMicros=200`);
    const received = lastValueFrom(reader.pipe(take(50), toArray()));
    for (let i = 0; i < 50; i++) {
      await writer.send(bytes(i));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect((await received).map((m) => m[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // A spin holds the event loop: more than 10 ms of it is refused.
    expect(() => ring(`shm:${shmName()}?spinMicros=10001`)).toThrow(/spinMicros/);
  });

  it('ends the reader with ERR_RXIPC_PEER_DIED when the writer dies in the middle of a write', async () => {
    const name = shmName();
    const uri = `shm:${name}?livenessMs=50`;
    const { child, ready } = ringChild(['dies-mid-write', uri, '20']);
    await ready;
    const reader = ring(uri);
    const received: number[] = [];
    const ended = new Promise<unknown>((resolve) => {
      reader.subscribe({
        next: (message) => received.push(message[0]!),
        error: resolve,
        complete: () => resolve('completed'),
      });
    });
    child.stdin!.write('go\n');
    const started = Date.now();
    const error = await ended;
    expect(error).toMatchObject({
      code: 'ERR_RXIPC_PEER_DIED',
      pid: child.pid,
      message: expect.stringContaining(`pid ${child.pid}`),
    });
    expect(received).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(Date.now() - started).toBeLessThan(5000);
    forgetNamedObject('posix-shm', name); // the killed child's record of the ring
  });

  it('fails a waiting send with ERR_RXIPC_PEER_DIED when the reader dies', async () => {
    const name = shmName();
    const uri = `shm:${name}?slots=1&slotSize=1024&livenessMs=50`;
    const writer = ring(uri);
    await writer.send(new Uint8Array(1)); // creates the ring
    const { child, ready } = ringChild(['joins-and-waits', uri]);
    await ready;
    const sends = Array.from({ length: 10 }, () => writer.send(new Uint8Array(1024)));
    const failed = Promise.allSettled(sends);
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const outcomes = await failed;
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({
      status: 'rejected',
      reason: expect.objectContaining({ code: 'ERR_RXIPC_PEER_DIED', pid: child.pid }),
    });
  });

  it('refuses to join a ring of another geometry, or a segment that is not a ring', async () => {
    const name = shmName();
    const a = ring(`shm:${name}?slots=4&slotSize=1024`);
    await a.send(bytes(1));
    const b = ring(`shm:${name}?slotSize=2048`);
    await expect(b.send(bytes(1))).rejects.toMatchObject({
      code: 'ERR_RXIPC_SHM_LAYOUT',
      message: expect.stringContaining('slotSize=1024'),
    });
    const other = shmName();
    const segment = posixShm({ name: other, size: 8192 });
    try {
      Atomics.store(new Int32Array(segment.buffer), 7, 1); // "ready", but no magic
      const c = ring(`shm:${other}`);
      await expect(c.send(bytes(1))).rejects.toMatchObject({ code: 'ERR_RXIPC_SHM_LAYOUT' });
    } finally {
      segment.close();
    }
  });

  it('refuses an oversize message before it reaches the ring, naming both sizes', async () => {
    const channel = ring(`shm:${shmName()}?slotSize=100`);
    await expect(channel.send(new Uint8Array(101))).rejects.toMatchObject({
      code: 'ERR_RXIPC_FRAME_TOO_LARGE',
      message: expect.stringMatching(/101 bytes.*100 bytes/),
    });
  });

  it('reports every problem of a URI at once', () => {
    expect(() => open('shm:no-slash?slots=0&slotSize=x&create=maybe&spin=1')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        problems: expect.arrayContaining([
          expect.stringContaining('unknown option spin'),
          expect.stringContaining('shm_overview(7)'),
          expect.stringContaining('option slots'),
          expect.stringContaining('option slotSize'),
          expect.stringContaining('option create'),
        ]),
      }),
    );
    expect(() => shmRing('mq:/x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('rejects pending sends and leaves nothing behind when closed while a send waits', async () => {
    const name = shmName();
    const writer = ring(`shm:${name}?slots=1&slotSize=1024`);
    const sends = Array.from({ length: 8 }, () => writer.send(new Uint8Array(1024)));
    await sends[0];
    const closing = writer.close();
    await expect(sends[7]).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    await Promise.allSettled(sends);
    await closing;
    expect(existingShm()).toEqual([]);
  });

  it('joins a half-created segment without blocking the event loop, and fails after the timeout', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name); // created, never sized: its creator died
    try {
      const joiner = ring(`shm:${name}`);
      const { outcome, maxGapMs, elapsedMs } = await withTicker(() => joiner.send(bytes(1)));
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: {
          code: 'ERR_RXIPC_SHM_LAYOUT',
          message: expect.stringMatching(
            new RegExp(`^${name} still had 0 bytes after 2000 ms.*rxipc clean`),
          ),
        },
      });
      expect(elapsedMs).toBeGreaterThanOrEqual(1990);
      expect(maxGapMs).toBeLessThan(100);
      expect(existingShm()).toEqual([name]); // the dead creator's name: rxipc clean's job
    } finally {
      creator.close();
    }
  });

  it('fails a join of a sized segment that was never marked ready, unmapping it', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name, ringGeometry(DEFAULT_SLOTS, DEFAULT_SLOT_SIZE).totalSize);
    let mapped = 0;
    const counting = {
      ...native,
      shmMap: (...args: Parameters<typeof native.shmMap>) => (mapped++, native.shmMap(...args)),
      shmUnmap: (...args: Parameters<typeof native.shmUnmap>) => (
        mapped--,
        native.shmUnmap(...args)
      ),
    };
    try {
      const options = { name, create: 'auto', mode: 0o600, readyTimeoutMs: 150 } as const;
      const { outcome, maxGapMs } = await withTicker(async () =>
        openRingSegment(options, counting),
      );
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: {
          code: 'ERR_RXIPC_SHM_LAYOUT',
          message: expect.stringContaining(`${name} was not marked ready within 150 ms`),
        },
      });
      expect(maxGapMs).toBeLessThan(100);
      expect(mapped).toBe(0);
    } finally {
      creator.close();
    }
  });

  it('lets a joiner that arrives before the creator has finished join once READY is set', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name, ringGeometry(DEFAULT_SLOTS, DEFAULT_SLOT_SIZE).totalSize);
    try {
      const joiner = ring(`shm:${name}`);
      const sent = joiner.send(bytes(1, 2, 3)); // queued while the joiner waits
      let settled = false;
      void sent.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      expect(joiner.pending).toBe(1);
      creator.finish();
      await sent;
      // A second party joins the same ring (the hand-made creator claimed no side) and reads it.
      const reader = ring(`shm:${name}`);
      expect([...(await firstValueFrom(reader))]).toEqual([1, 2, 3]);
      expect(existingShm()).toEqual([]); // both sides claimed: the name is gone
    } finally {
      creator.close();
    }
  });

  it.each([
    ['never sized', undefined],
    ['sized but never marked ready', ringGeometry(DEFAULT_SLOTS, DEFAULT_SLOT_SIZE).totalSize],
  ])(
    'close() during a join of a segment %s stops the join at once and releases what it opened',
    async (_, size) => {
      const name = shmName();
      const creator = halfCreatedRing(name, size);
      const binding = countingBinding();
      const timersBefore = activeTimers();
      try {
        const joiner = shmRing(`shm:${name}?readyTimeoutMs=2000`, { binding });
        channels.add(joiner);
        const sent = joiner.send(bytes(1));
        await new Promise((resolve) => setTimeout(resolve, 20)); // the join is waiting now
        expect(binding.open).toEqual({ fds: 1, mappings: size === undefined ? 0 : 1 });
        expect(activeTimers()).toBe(timersBefore + 1);
        const started = performance.now();
        const closing = joiner.close();
        await expect(sent).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
        await closing;
        expect(performance.now() - started).toBeLessThan(200);
        expect(binding.open).toEqual({ fds: 0, mappings: 0 });
        expect(activeTimers()).toBe(timersBefore);
        expect(existingShm()).toEqual([name]); // the test's own half-made segment, nothing else
        if (size !== undefined) {
          // The join is over: a creator that finishes now finds both sides free.
          creator.finish();
          await new Promise((resolve) => setTimeout(resolve, 40));
          expect(creator.words()[(sideOffset(0) + SIDE.STATE) >> 2]).toBe(SIDE_STATE.FREE);
          expect(creator.words()[(sideOffset(1) + SIDE.STATE) >> 2]).toBe(SIDE_STATE.FREE);
        }
      } finally {
        creator.close();
      }
    },
  );

  it('claims no side when stopped just as its wait for the creator succeeds', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name, ringGeometry(DEFAULT_SLOTS, DEFAULT_SLOT_SIZE).totalSize);
    const stop = new AbortController();
    const counting = countingBinding();
    // The join closes its descriptor right after it has seen READY: stop it there.
    const binding = {
      ...counting,
      fdClose: (...args: Parameters<typeof native.fdClose>) => {
        counting.fdClose(...args);
        stop.abort(new Error('stopped'));
      },
    };
    try {
      const options = { name, create: 'auto', mode: 0o600, readyTimeoutMs: 2000 } as const;
      const joining = Promise.resolve(
        openRingSegment({ ...options, signal: stop.signal }, binding),
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      creator.finish();
      const outcome = await joining.then(
        (segment) => (segment.close(), 'joined'), // (closed, should this test fail)
        (error: Error) => error.message,
      );
      expect(outcome).toBe('stopped');
      expect(counting.open).toEqual({ fds: 0, mappings: 0 });
      expect(creator.words()[(sideOffset(0) + SIDE.STATE) >> 2]).toBe(SIDE_STATE.FREE);
    } finally {
      creator.close();
    }
  });

  it('close() of a channel from open() stops a waiting join at once', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name);
    try {
      const joiner = ring(`shm:${name}`);
      const subscriber = lastValueFrom(joiner.pipe(toArray()));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const started = performance.now();
      await joiner.close();
      expect(performance.now() - started).toBeLessThan(200);
      await expect(subscriber).resolves.toEqual([]);
      expect(existingShm()).toEqual([name]);
    } finally {
      creator.close();
    }
  });

  it('fails a join after readyTimeoutMs from the URI', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name);
    try {
      const joiner = ring(`shm:${name}?readyTimeoutMs=50`);
      const started = performance.now();
      await expect(joiner.send(bytes(1))).rejects.toMatchObject({
        code: 'ERR_RXIPC_SHM_LAYOUT',
        message: expect.stringMatching(new RegExp(`^${name} still had 0 bytes after 50 ms`)),
      });
      const elapsedMs = performance.now() - started;
      expect(elapsedMs).toBeGreaterThanOrEqual(45);
      expect(elapsedMs).toBeLessThan(1000);
      expect(existingShm()).toEqual([name]);
    } finally {
      creator.close();
    }
  });

  it('fails a join of an unfinished segment at once with readyTimeoutMs=0', async () => {
    const name = shmName();
    const creator = halfCreatedRing(name);
    try {
      const started = performance.now();
      await expect(ring(`shm:${name}?readyTimeoutMs=0`).send(bytes(1))).rejects.toMatchObject({
        code: 'ERR_RXIPC_SHM_LAYOUT',
        message: expect.stringContaining('after 0 ms'),
      });
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      creator.close();
    }
  });

  it('parses readyTimeoutMs as an integer number of milliseconds from 0 to 60000', () => {
    const parse = (uri: string) => parseShmRingUri(orThrow(uri, splitUri(uri)));
    expect(parse('shm:/r?readyTimeoutMs=0')).toEqual(E.right({ name: '/r', readyTimeoutMs: 0 }));
    expect(parse('shm:/r?readyTimeoutMs=60000')).toEqual(
      E.right({ name: '/r', readyTimeoutMs: 60000 }),
    );
    expect(parse('shm:/r')).toEqual(E.right({ name: '/r' }));
    for (const bad of ['-1', '60001', '1.5', 'x', '']) {
      expect(parse(`shm:/r?readyTimeoutMs=${bad}`)).toEqual(
        E.left([
          `option readyTimeoutMs must be an integer from 0 to 60000, got ${JSON.stringify(bad)}`,
        ]),
      );
    }
    // With the other problems of the URI, all at once.
    expect(() => open('shm:no-slash?readyTimeoutMs=-5&slots=0')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        problems: expect.arrayContaining([
          expect.stringContaining('shm_overview(7)'),
          expect.stringContaining('option slots'),
          expect.stringContaining('option readyTimeoutMs'),
        ]),
      }),
    );
    expect(() => shmRing({ name: '/r', readyTimeoutMs: 60001 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => shmRing({ name: '/r', readyTimeoutMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });
});

/** The native binding, counting the descriptors and mappings opened and not yet released. */
function countingBinding(): typeof native & { readonly open: { fds: number; mappings: number } } {
  const open = { fds: 0, mappings: 0 };
  return {
    ...native,
    open,
    shmOpen: (...args: Parameters<typeof native.shmOpen>) => {
      const fd = native.shmOpen(...args);
      open.fds++;
      return fd;
    },
    fdClose: (...args: Parameters<typeof native.fdClose>) => (open.fds--, native.fdClose(...args)),
    shmMap: (...args: Parameters<typeof native.shmMap>) => {
      const mapping = native.shmMap(...args);
      open.mappings++;
      return mapping;
    },
    shmUnmap: (...args: Parameters<typeof native.shmUnmap>) => (
      open.mappings--,
      native.shmUnmap(...args)
    ),
  };
}

/** How many timers are active in this process now. */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
