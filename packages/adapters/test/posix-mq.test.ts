import { execFileSync } from 'node:child_process';
import { firstValueFrom, lastValueFrom, map, take, timer, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { boundedMergeMap, listNamedObjects, open, posixMq } from '../src/index.js';
import { mqOpenError } from '../src/posix-mq/errors.js';
import { readSeq } from '../src/testkit/sequence.js';
import {
  failure,
  nodeScript,
  queueExists,
  queueName,
  removePeers,
  removeQueues,
} from './mq-support.js';

afterEach(removeQueues);
afterAll(removePeers);

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (value: Uint8Array): string => new TextDecoder().decode(value);

describe('posixMq', () => {
  it('carries messages both ways through one queue, byte for byte', async () => {
    const channel = open(`mq:${queueName()}?maxmsg=10&msgsize=256`);
    try {
      const received = lastValueFrom(channel.pipe(take(3), toArray()));
      await channel.send(bytes(1, 2, 3));
      await channel.send(bytes());
      await channel.send(new Uint8Array(256).fill(7));
      expect(await received).toEqual([bytes(1, 2, 3), bytes(), new Uint8Array(256).fill(7)]);
    } finally {
      await channel.close();
    }
  });

  it('delivers higher priorities first and tells each message its priority', async () => {
    const name = queueName();
    const channel = posixMq(`mq:${name}?maxmsg=10&msgsize=64`, { envelopes: true });
    try {
      await channel.send({ data: text('low'), priority: 1 });
      await channel.send({ data: text('default') });
      await channel.send({ data: text('high'), priority: 30000 });
      await channel.send({ data: text('middle'), priority: 5 });
      await channel.send({ data: text('high too'), priority: 30000 });
      const received = await lastValueFrom(channel.pipe(take(5), toArray()));
      expect(received.map(({ data, priority }) => [decode(data), priority])).toEqual([
        ['high', 30000],
        ['high too', 30000],
        ['middle', 5],
        ['low', 1],
        ['default', 0],
      ]);
    } finally {
      await channel.close();
    }
  });

  it('keeps each message its own priority when many go to the kernel in one batch', async () => {
    const name = queueName();
    const writer = posixMq(`mq:${name}?maxmsg=4&msgsize=64`, { envelopes: true });
    const reader = posixMq({ name }, { envelopes: true });
    try {
      // Queued in one tick: the transport hands them over in batches of maxmsg (4), each
      // batch with one priority per message, and the 12 only fit as the reader drains.
      const sent = Array.from({ length: 12 }, (_, i) => ({ data: text(`m${i}`), priority: i % 3 }));
      const received = lastValueFrom(reader.pipe(take(12), toArray()));
      for (const message of sent.slice(0, -1)) writer.next(message);
      await writer.send(sent.at(-1)!);
      const got = (await received).map(({ data, priority }) => [decode(data), priority]);
      expect(got).toHaveLength(12);
      for (const [data, priority] of got) expect(priority).toBe(Number(String(data).slice(1)) % 3);
      // Within one priority the kernel keeps the sending order.
      for (const level of [0, 1, 2]) {
        const order = got.filter(([, priority]) => priority === level).map(([data]) => data);
        expect(order).toEqual(sent.filter((m) => m.priority === level).map((m) => decode(m.data)));
      }
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('sends with the priority the URI names', async () => {
    const name = queueName();
    const writer = open(`mq:${name}?maxmsg=10&msgsize=64&priority=12`);
    const reader = posixMq({ name }, { envelopes: true });
    try {
      await writer.send(text('x'));
      expect(await firstValueFrom(reader)).toEqual({ data: text('x'), priority: 12 });
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('refuses a bad priority when the message is sent', async () => {
    const channel = posixMq(`mq:${queueName()}?maxmsg=10&msgsize=64`, { envelopes: true });
    try {
      await expect(channel.send({ data: text('x'), priority: 40000 })).rejects.toThrow(
        /priority is an integer from 0 to 32767/,
      );
    } finally {
      await channel.close();
    }
  });

  it('unlinks a queue it created on close, and records it in the registry meanwhile', async () => {
    const name = queueName();
    const channel = open(`mq:${name}?maxmsg=4&msgsize=32`);
    await channel.send(text('x'));
    expect(queueExists(name)).toBe(true);
    expect(listNamedObjects().find((e) => e.name === name)).toMatchObject({
      kind: 'posix-mq',
      pid: process.pid,
      mode: '0600',
    });
    await channel.close();
    expect(queueExists(name)).toBe(false);
    expect(listNamedObjects().some((e) => e.name === name)).toBe(false);
  });

  it('leaves a queue it did not create, and one created with persist=true', async () => {
    const name = queueName();
    const owner = open(`mq:${name}?maxmsg=4&msgsize=32&persist=true`);
    await owner.send(text('kept'));
    await owner.close();
    expect(queueExists(name)).toBe(true);
    const visitor = open(`mq:${name}`);
    expect(decode(await firstValueFrom(visitor))).toBe('kept');
    await visitor.close();
    expect(queueExists(name)).toBe(true);
  });

  it('keeps messages sent while no reader exists, for a reader in a later process', async () => {
    const name = queueName();
    // A producer process that sends three messages and exits before any reader exists.
    const producer = nodeScript(
      'persist-producer',
      `const q = rx.open(${JSON.stringify(`mq:${name}?maxmsg=10&msgsize=64&persist=true`)});
       for (const word of ['one', 'two', 'three']) await q.send(new TextEncoder().encode(word));
       await q.close();`,
    );
    execFileSync(process.execPath, producer, { stdio: 'pipe' });
    expect(queueExists(name)).toBe(true);
    const consumer = nodeScript(
      'persist-consumer',
      `const q = rx.open(${JSON.stringify(`mq:${name}?create=false`)});
       const words = await rxjs.lastValueFrom(q.pipe(rxjs.take(3), rxjs.toArray()));
       console.log(JSON.stringify(words.map((w) => new TextDecoder().decode(w))));
       await q.close();`,
    );
    const out = execFileSync(process.execPath, consumer, { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['one', 'two', 'three']);
  });

  it('fails with EEXIST for exclusive=true on an existing queue, and ENOENT for create=false', async () => {
    const name = queueName();
    const first = open(`mq:${name}?maxmsg=4&msgsize=32`);
    await first.send(text('x'));
    try {
      await expect(firstValueFrom(open(`mq:${name}?exclusive=true`))).rejects.toMatchObject({
        code: 'EEXIST',
        syscall: 'mq_open',
        path: name,
      });
    } finally {
      await first.close();
    }
    const missing = await firstValueFrom(open(`mq:${name}?create=false`)).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'mq_open', path: name });
    expect((missing as Error).message).toMatch(/^ENOENT: no such file or directory, mq_open/);
  });

  it('names msg_max when maxmsg is above the system limit', async () => {
    const error = await failure(firstValueFrom(open(`mq:${queueName()}?maxmsg=1000&msgsize=64`)));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'mq_open' });
    expect(error.message).toMatch(
      /maxmsg 1000 exceeds the system limit \d+; see \/proc\/sys\/fs\/mqueue\/msg_max/,
    );
  });

  it('names msgsize_max when msgsize is above the system limit', async () => {
    const error = await failure(
      firstValueFrom(open(`mq:${queueName()}?maxmsg=2&msgsize=100000000`)),
    );
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'mq_open' });
    expect(error.message).toMatch(
      /msgsize 100000000 exceeds the system limit \d+; see \/proc\/sys\/fs\/mqueue\/msgsize_max/,
    );
  });

  it('names RLIMIT_MSGQUEUE for EMFILE and queues_max for ENOSPC', () => {
    // Provoking these for real would use up limits every test of this user shares.
    const emfile = mqOpenError(native, native.systemError(24, 'mq_open', '/q'), {
      name: '/q',
      maxmsg: 10,
      msgsize: 8192,
    }) as Error;
    expect(emfile).toMatchObject({ code: 'EMFILE', syscall: 'mq_open', path: '/q' });
    expect(emfile.message).toMatch(
      /RLIMIT_MSGQUEUE \(\d+ bytes, ulimit -q; this queue takes about 8\d{4} bytes of it.*RLIMIT_NOFILE/,
    );
    const enospc = mqOpenError(native, native.systemError(28, 'mq_open', '/q'), {
      name: '/q',
    }) as Error;
    expect(enospc.message).toMatch(/queues_max \(\d+\).*\/proc\/sys\/fs\/mqueue\/queues_max/);
  });

  it('refuses a message longer than msgsize with EMSGSIZE naming both sizes', async () => {
    const channel = open(`mq:${queueName()}?maxmsg=2&msgsize=100`);
    try {
      const error = await failure(channel.send(new Uint8Array(101)));
      expect(error).toMatchObject({ code: 'EMSGSIZE', syscall: 'mq_send' });
      expect(error.message).toMatch(/101 bytes exceeds the queue's msgsize of 100 bytes/);
    } finally {
      await channel.close();
    }
  });

  it('makes send wait while the queue is full, and go on when a message is taken', async () => {
    const name = queueName();
    const writer = open(`mq:${name}?maxmsg=3&msgsize=16`);
    const reader = open(`mq:${name}`);
    try {
      for (let i = 0; i < 3; i++) await writer.send(bytes(i));
      let fourth = false;
      const sending = writer.send(bytes(3)).then(() => (fourth = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fourth).toBe(false);
      expect(writer.pending).toBe(1);
      expect(native.waiterCount()).toBe(0); // no thread parked: the descriptor is polled
      const received = lastValueFrom(reader.pipe(take(4), toArray()));
      await sending;
      expect(await received).toEqual([bytes(0), bytes(1), bytes(2), bytes(3)]);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('keeps a fast producer process bounded by a 10-message queue, nothing lost', async () => {
    const name = queueName();
    const total = 3000;
    const reader = open(`mq:${name}?maxmsg=10&msgsize=64`);
    try {
      const seqs = lastValueFrom(
        reader.pipe(
          // A slow consumer: 1 ms for every 100th message, through a bounded operator.
          boundedMergeMap(
            (m) => timer(readSeq(m) % 100 === 0 ? 1 : 0).pipe(map(() => readSeq(m))),
            {
              concurrency: 1,
            },
          ),
          take(total),
          toArray(),
        ),
      );
      const producer = nodeScript(
        'fast-producer',
        `const { seqMessage } = await import(${JSON.stringify(new URL('../src/testkit/sequence.ts', import.meta.url).pathname)});
         const q = rx.open(${JSON.stringify(`mq:${name}?create=false`)});
         let maxPending = 0;
         const rss = process.memoryUsage().rss;
         for (let i = 0; i < ${total}; i++) {
           if (q.pending >= q.highWaterMark) await q.ready();
           q.next(seqMessage(i, 64));
           maxPending = Math.max(maxPending, q.pending);
         }
         await q.send(seqMessage(${total}, 64));
         console.log(JSON.stringify({ maxPending, growth: process.memoryUsage().rss - rss }));
         await q.close();`,
      );
      const child = execFileAsync(process.execPath, producer);
      const got = await seqs;
      const report = JSON.parse(await child) as { maxPending: number; growth: number };
      expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(report.maxPending).toBeLessThanOrEqual(1024);
      expect(report.growth).toBeLessThan(64 * 1024 * 1024);
      const queue = native.mqOpen(name, { read: true });
      expect(native.mqGetAttr(queue).maxmsg).toBe(10);
      native.fdClose(queue);
    } finally {
      await reader.close();
    }
  });

  it('rejects a URI with every problem listed', () => {
    const error = (() => {
      try {
        open('mq:jobs?maxmsg=x&priority=99999&bogus=1');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    for (const problem of [
      /a queue name is \/ followed by a name/,
      /option maxmsg must be an integer/,
      /option priority must be an integer from 0 to 32767/,
      /unknown option bogus/,
    ])
      expect(error?.message).toMatch(problem);
    expect(() => posixMq({ name: '/a/b' })).toThrow(/no \/ after the first/);
  });
});

function execFileAsync(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) =>
      execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
  });
}
