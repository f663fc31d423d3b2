import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { CHANNEL_ENV, listNamedObjects, open, sysvMq } from '../src/index.js';
import {
  failure,
  keyLabelOf,
  nodeScript,
  removePeers,
  removeQueues,
  sysvKey,
  sysvQueue,
  trackSysvId,
} from './mq-support.js';

afterEach(removeQueues);
afterAll(removePeers);

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (value: Uint8Array): string => new TextDecoder().decode(value);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

/** `ipcs -q` lines as { key, id, perms }. */
function ipcsQueues(): { key: string; id: number; perms: string }[] {
  return execFileSync('ipcs', ['-q'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /^0x[0-9a-f]+\s/.test(line))
    .map((line) => {
      const [key, id, , perms] = line.trim().split(/\s+/);
      return { key: key!, id: Number(id), perms: perms! };
    });
}

describe('sysvMq', () => {
  it('carries messages with their types, in order, byte for byte', async () => {
    const channel = sysvMq({ key: sysvKey() }, { envelopes: true });
    try {
      await channel.send({ data: text('one'), type: 3 });
      await channel.send({ data: new Uint8Array(0), type: 1 });
      await channel.send({ data: new Uint8Array(8192).fill(9) });
      const received = await lastValueFrom(channel.pipe(take(3), toArray()));
      expect(received).toEqual([
        { data: text('one'), type: 3 },
        { data: new Uint8Array(0), type: 1 },
        { data: new Uint8Array(8192).fill(9), type: 1 },
      ]);
    } finally {
      await channel.close();
    }
  });

  it('keeps every message its own type and the order when batches fill the queue', async () => {
    const key = sysvKey();
    const writer = sysvMq({ key }, { envelopes: true, highWaterMark: 1000 });
    const reader = sysvMq({ key }, { envelopes: true });
    try {
      // Queued in one tick: the transport hands them to the kernel in batches, which stop
      // where the 16 KiB queue is full (about 160 of these), and the rest follow as the reader
      // drains, through the send thread.
      const sent = Array.from({ length: 600 }, (_, i) => ({
        data: new Uint8Array(100).fill(i % 251),
        type: (i % 4) + 1,
      }));
      const received = lastValueFrom(reader.pipe(take(sent.length), toArray()));
      for (const message of sent.slice(0, -1)) writer.next(message);
      await writer.send(sent.at(-1)!);
      expect(await received).toEqual(sent);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('feeds several typed streams from one queue (msgtyp N)', async () => {
    const key = sysvKey();
    const all = sysvMq({ key }, { envelopes: true });
    const orders = sysvMq({ key, msgtyp: 1 });
    const cancels = sysvMq({ key, msgtyp: 2 });
    try {
      const gotOrders = lastValueFrom(orders.pipe(take(3), toArray()));
      const gotCancels = lastValueFrom(cancels.pipe(take(2), toArray()));
      for (const [word, type] of [
        ['o1', 1],
        ['c1', 2],
        ['o2', 1],
        ['o3', 1],
        ['c2', 2],
      ] as const) {
        await all.send({ data: text(word), type });
      }
      expect((await gotOrders).map(decode)).toEqual(['o1', 'o2', 'o3']);
      expect((await gotCancels).map(decode)).toEqual(['c1', 'c2']);
    } finally {
      await Promise.all([all.close(), orders.close(), cancels.close()]);
    }
  });

  it('takes the lowest type first with a negative msgtyp, and every other type with except', async () => {
    const key = sysvKey();
    const writer = sysvMq({ key }, { envelopes: true });
    try {
      for (const [word, type] of [
        ['five', 5],
        ['three', 3],
        ['nine', 9],
        ['one', 1],
        ['three again', 3],
      ] as const) {
        await writer.send({ data: text(word), type });
      }
      const lowest = sysvMq(`sysv-mq:${keyLabelOf(key)}?msgtyp=-5&create=false`, {
        envelopes: true,
      });
      const upToFive = await lastValueFrom(lowest.pipe(take(4), toArray()));
      await lowest.close();
      expect(upToFive.map((m) => [decode(m.data), m.type])).toEqual([
        ['one', 1],
        ['three', 3],
        ['three again', 3],
        ['five', 5],
      ]);
      await writer.send({ data: text('two'), type: 2 });
      const notNine = sysvMq({ key, msgtyp: 9, except: true, create: false });
      expect(decode(await firstValueFrom(notNine))).toBe('two');
      await notNine.close();
      const nine = sysvMq({ key, msgtyp: 9, create: false });
      expect(decode(await firstValueFrom(nine))).toBe('nine');
      await nine.close();
    } finally {
      await writer.close();
    }
  });

  it('sends with the type the URI names', async () => {
    const key = sysvKey();
    const writer = open(`sysv-mq:${keyLabelOf(key)}?type=42`);
    const reader = sysvMq({ key }, { envelopes: true });
    try {
      await writer.send(text('x'));
      expect(await firstValueFrom(reader)).toEqual({ data: text('x'), type: 42 });
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('shows its queue in ipcs -q with the expected mode, and removes it on close', async () => {
    const key = sysvKey();
    const channel = open(`sysv-mq:${keyLabelOf(key)}?mode=0640`);
    await channel.send(text('x'));
    expect(ipcsQueues().find((q) => q.key === keyLabelOf(key))).toMatchObject({ perms: '640' });
    expect(listNamedObjects().find((e) => e.name === keyLabelOf(key))).toMatchObject({
      kind: 'sysv-mq',
      pid: process.pid,
      mode: '0640',
    });
    await channel.close();
    expect(ipcsQueues().some((q) => q.key === keyLabelOf(key))).toBe(false);
    expect(listNamedObjects().some((e) => e.name === keyLabelOf(key))).toBe(false);

    const defaults = open(`sysv-mq:${keyLabelOf(key)}`);
    await defaults.send(text('x'));
    expect(ipcsQueues().find((q) => q.key === keyLabelOf(key))).toMatchObject({ perms: '600' });
    await defaults.close();
  });

  it('leaves a queue created with persist=true, with its messages, for a later reader', async () => {
    const key = sysvKey();
    const producer = nodeScript(
      'sysv-persist-producer',
      `const q = rx.open(${JSON.stringify(`sysv-mq:${keyLabelOf(key)}?persist=true`)});
       for (const word of ['one', 'two']) await q.send(new TextEncoder().encode(word));
       await q.close();`,
    );
    execFileSync(process.execPath, producer, { stdio: 'pipe' });
    expect(sysvQueue(key)).toBeDefined();
    const reader = open(`sysv-mq:${keyLabelOf(key)}?create=false`);
    expect((await lastValueFrom(reader.pipe(take(2), toArray()))).map(decode)).toEqual([
      'one',
      'two',
    ]);
    await reader.close();
    expect(sysvQueue(key)).toBeDefined(); // not ours: left in place (afterEach removes it)
  });

  it('closes in milliseconds while a receive waits in its thread, which is then gone', async () => {
    const channel = open(`sysv-mq:${keyLabelOf(sysvKey())}`);
    const before = native.waiterCount();
    const subscription = channel.subscribe();
    await until(() => native.waiterCount() === before + 1);
    await sleep(20); // let the thread reach msgrcv
    const started = performance.now();
    await channel.close();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(200);
    expect(native.waiterCount()).toBe(before);
    subscription.unsubscribe();
  });

  it('stops its receive thread promptly on unsubscribe', async () => {
    const channel = open(`sysv-mq:${keyLabelOf(sysvKey())}`);
    const before = native.waiterCount();
    const subscription = channel.subscribe();
    await until(() => native.waiterCount() === before + 1);
    await sleep(20);
    const started = performance.now();
    subscription.unsubscribe();
    expect(performance.now() - started).toBeLessThan(200);
    expect(native.waiterCount()).toBe(before);
    await channel.close();
  });

  it('ends the stream with EIDRM when ipcrm removes the queue under a waiting subscriber', async () => {
    const key = sysvKey();
    const channel = open(`sysv-mq:${keyLabelOf(key)}`);
    const before = native.waiterCount();
    const ended = lastValueFrom(channel).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    await until(() => native.waiterCount() === before + 1);
    await sleep(20);
    execFileSync('ipcrm', ['-Q', keyLabelOf(key)]);
    const error = await ended;
    expect(error).toMatchObject({ code: 'EIDRM', errno: -43, syscall: 'msgrcv' });
    expect(error?.message).toMatch(
      /^EIDRM: identifier removed, msgrcv '0x7e.*' \(the queue was removed/,
    );
    await channel.close();
    expect(native.waiterCount()).toBe(before);
  });

  it('errors sends with EIDRM once the queue was removed', async () => {
    const key = sysvKey();
    const channel = open(`sysv-mq:${keyLabelOf(key)}`);
    await channel.send(text('x'));
    execFileSync('ipcrm', ['-Q', keyLabelOf(key)]);
    expect(await failure(channel.send(text('y')))).toMatchObject({
      code: 'EIDRM',
      syscall: 'msgsnd',
    });
    await channel.close();
  });

  it('makes send wait while the queue is full, and close interrupts the waiting send', async () => {
    const key = sysvKey();
    // persist: the queue stays after close, to show what the interrupted send left.
    const writer = open(`sysv-mq:${keyLabelOf(key)}?persist=true`);
    const big = new Uint8Array(8192);
    // msgmnb is 16384 bytes here: two such messages fill the queue.
    await writer.send(big);
    await writer.send(big);
    let third = false;
    const waiting = writer.send(big).then(
      () => (third = true),
      (error: unknown) => error,
    );
    await sleep(50);
    expect(third).toBe(false);
    const queue = sysvQueue(key)!;
    expect(native.msgStat(queue).messages).toBe(2);

    // A reader takes one: the waiting send goes through.
    const reader = open(`sysv-mq:${keyLabelOf(key)}?create=false`);
    const firstMessage = firstValueFrom(reader);
    await waiting;
    expect(third).toBe(true);
    await firstMessage;
    await reader.close();

    // Full again (two messages): a fourth send waits in a thread; closing the channel
    // interrupts it, and the message is not sent.
    expect(native.msgStat(queue).messages).toBe(2);
    const fourth = writer.send(big).then(
      () => 'sent',
      (error: unknown) => (error as { code?: string }).code,
    );
    await sleep(30);
    const started = performance.now();
    await writer.close();
    expect(performance.now() - started).toBeLessThan(200);
    expect(await fourth).toBe('ERR_RXIPC_CHANNEL_CLOSED');
    expect(native.msgStat(queue).messages).toBe(2);
    native.msgClose(queue);
  });

  it('shares an IPC_PRIVATE queue with a child process by identifier', async () => {
    const channel = sysvMq('sysv-mq:private', { envelopes: true });
    try {
      await channel.send({ data: text('ping'), type: 1 });
      const id = Number(/^id:(\d+)$/.exec(privateLabel())![1]);
      trackSysvId(id);
      const child = nodeScript(
        'private-child',
        `const q = rx.sysvMq(process.env.${CHANNEL_ENV}, { envelopes: true });
         const { data } = await rxjs.firstValueFrom(q.pipe(rxjs.filter((m) => m.type === 1)));
         await q.send({ data: new TextEncoder().encode(new TextDecoder().decode(data) + ' pong'), type: 2 });
         await q.close();`,
      );
      const proc = spawn(process.execPath, child, {
        stdio: 'inherit',
        env: { ...process.env, [CHANNEL_ENV]: `sysv-mq:id:${id}?msgtyp=1` },
      });
      const reply = await firstValueFrom(
        sysvMq({ id, msgtyp: 2 }, { envelopes: true }).pipe(take(1)),
      );
      expect({ data: decode(reply.data), type: reply.type }).toEqual({
        data: 'ping pong',
        type: 2,
      });
      await new Promise((resolve) => proc.on('exit', resolve));
    } finally {
      await channel.close();
    }

    function privateLabel(): string {
      const entry = listNamedObjects().find((e) => e.kind === 'sysv-mq' && e.pid === process.pid);
      return entry!.name;
    }
  });

  it('finds the same queue through ftok from a path and a project id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-ftok-'));
    const file = path.join(dir, 'anchor');
    writeFileSync(file, '');
    const key = native.ftok(file, 7);
    const a = open(`sysv-mq:${file}?project=7`);
    const b = open(`sysv-mq:${keyLabelOf(key)}?create=false`);
    try {
      await a.send(text('via ftok'));
      expect(decode(await firstValueFrom(b))).toBe('via ftok');
    } finally {
      await Promise.all([a.close(), b.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers a zero-length message that arrives while the receive thread waits', async () => {
    const key = sysvKey();
    const reader = sysvMq({ key }, { envelopes: true });
    const writer = sysvMq({ key, create: false }, { envelopes: true });
    try {
      const before = native.waiterCount();
      const received = lastValueFrom(reader.pipe(take(3), toArray()));
      await until(() => native.waiterCount() === before + 1);
      await sleep(20);
      await writer.send({ data: new Uint8Array(0), type: 4 });
      await writer.send({ data: text('after'), type: 5 });
      await writer.send({ data: new Uint8Array(0), type: 6 });
      expect((await received).map((m) => [m.data.byteLength, m.type])).toEqual([
        [0, 4],
        [5, 5],
        [0, 6],
      ]);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('errors with ENOENT for create=false on a missing key, with the system-error shape', async () => {
    const key = sysvKey();
    const error = await failure(firstValueFrom(open(`sysv-mq:${keyLabelOf(key)}?create=false`)));
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'msgget' });
    expect(error.message).toMatch(/^ENOENT: no such file or directory, msgget '0x7e/);
  });

  it('rejects a URI with every problem listed', () => {
    const error = (() => {
      try {
        open('sysv-mq:nokey?type=0&except=true&bogus=1');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    for (const problem of [
      /takes a key/,
      /option type must be an integer from 1/,
      /unknown option bogus/,
    ])
      expect(error?.message).toMatch(problem);
    expect(() => sysvMq({ key: 1, id: 2 })).toThrow(/exactly one of key, path, id or private/);
  });
});
