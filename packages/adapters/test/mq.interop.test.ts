/**
 * Interop with plain C programs that use the raw calls (mq_send/mq_receive,
 * msgsnd/msgrcv), in both directions, with priorities and types.
 */
import { execFile } from 'node:child_process';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { open, posixMq, sysvMq } from '../src/index.js';
import { cPeer, keyLabelOf, queueName, removePeers, removeQueues, sysvKey } from './mq-support.js';

afterEach(removeQueues);
afterAll(removePeers);

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (value: Uint8Array): string => new TextDecoder().decode(value);

function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(program, args, { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('interop with C programs', () => {
  it('reads what a C program sends with mq_send, with its priorities', async () => {
    const name = queueName();
    const channel = posixMq(`mq:${name}?maxmsg=10&msgsize=128`, { envelopes: true });
    try {
      await channel.send({ data: text('ours'), priority: 2 }); // opens (creates) the queue
      await run(cPeer('posix-mq-peer'), ['send', name, '7', 'c-high-1', 'c-high-2']);
      await run(cPeer('posix-mq-peer'), ['send', name, '0', 'c-low']);
      const received = await lastValueFrom(channel.pipe(take(4), toArray()));
      expect(received.map((m) => [decode(m.data), m.priority])).toEqual([
        ['c-high-1', 7],
        ['c-high-2', 7],
        ['ours', 2],
        ['c-low', 0],
      ]);
    } finally {
      await channel.close();
    }
  });

  it('sends what a C program reads with mq_receive, highest priority first', async () => {
    const name = queueName();
    const channel = posixMq(`mq:${name}?maxmsg=10&msgsize=128`, { envelopes: true });
    try {
      await channel.send({ data: text('low'), priority: 1 });
      await channel.send({ data: text('high'), priority: 100 });
      await channel.send({ data: text('default') });
      const out = await run(cPeer('posix-mq-peer'), ['recv', name, '3']);
      expect(out.trim().split('\n')).toEqual(['100 high', '1 low', '0 default']);
    } finally {
      await channel.close();
    }
  });

  it('waits for a C reader when the queue is full, losing nothing', async () => {
    const name = queueName();
    const channel = open(`mq:${name}?maxmsg=10&msgsize=64`);
    try {
      await channel.send(text('m0'));
      const reading = run(cPeer('posix-mq-peer'), ['recv', name, '200']);
      for (let i = 1; i < 200; i++) {
        if (channel.pending >= channel.highWaterMark) await channel.ready();
        channel.next(text(`m${i}`));
      }
      const lines = (await reading).trim().split('\n');
      expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `0 m${i}`));
    } finally {
      await channel.close();
    }
  });

  it('reads what a C program sends with msgsnd, with its types', async () => {
    const key = sysvKey();
    const channel = sysvMq({ key }, { envelopes: true });
    const typeTwo = sysvMq({ key, msgtyp: 2 });
    try {
      await channel.send({ data: text('ours'), type: 9 }); // creates the queue
      await run(cPeer('sysv-mq-peer'), ['send', keyLabelOf(key), '2', 'c-two']);
      await run(cPeer('sysv-mq-peer'), ['send', keyLabelOf(key), '5', 'c-five-a', 'c-five-b']);
      expect(decode(await lastValueFrom(typeTwo.pipe(take(1))))).toBe('c-two');
      const rest = await lastValueFrom(channel.pipe(take(3), toArray()));
      expect(rest.map((m) => [decode(m.data), m.type])).toEqual([
        ['ours', 9],
        ['c-five-a', 5],
        ['c-five-b', 5],
      ]);
    } finally {
      await Promise.all([typeTwo.close(), channel.close()]);
    }
  });

  it('sends typed messages that a C program selects with msgrcv', async () => {
    const key = sysvKey();
    const channel = sysvMq({ key }, { envelopes: true });
    try {
      for (const [word, type] of [
        ['a', 3],
        ['b', 1],
        ['c', 3],
        ['d', 2],
      ] as const) {
        await channel.send({ data: text(word), type });
      }
      expect((await run(cPeer('sysv-mq-peer'), ['recv', keyLabelOf(key), '3', '2'])).trim()).toBe(
        '3 a\n3 c',
      );
      expect((await run(cPeer('sysv-mq-peer'), ['recv', keyLabelOf(key), '-3', '2'])).trim()).toBe(
        '1 b\n2 d',
      );
    } finally {
      await channel.close();
    }
  });

  it('keeps a C reader and a fast sender in step through a full System V queue', async () => {
    const key = sysvKey();
    const channel = open(`sysv-mq:${keyLabelOf(key)}`);
    try {
      await channel.send(text('x0'));
      const total = 3000; // far more than the queue's 16 KiB hold at once
      const reading = run(cPeer('sysv-mq-peer'), ['recv', keyLabelOf(key), '0', String(total)]);
      const padding = 'p'.repeat(100);
      for (let i = 1; i < total; i++) {
        if (channel.pending >= channel.highWaterMark) await channel.ready();
        channel.next(text(`x${i} ${padding}`));
      }
      const lines = (await reading).trim().split('\n');
      expect(lines).toHaveLength(total);
      expect(lines.map((l) => l.split(' ')[1])).toEqual(
        Array.from({ length: total }, (_, i) => `x${i}`),
      );
    } finally {
      await channel.close();
    }
  });
});
