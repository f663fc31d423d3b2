import type { ChildProcess } from 'node:child_process';
import { lastValueFrom, map, take, timer, toArray } from 'rxjs';

import type { Channel } from '../channel/channel.js';
import { isSystemError } from '../errors.js';
import { boundedMergeMap } from '../flow/bounded-merge-map.js';
import type { OpenOptions } from '../open.js';
import { countOpenFds, nodeArgsFor, spawnPeer } from './process.js';
import { readSeq, seqMessage } from './sequence.js';

/** Two connected channels: what `writer` sends, `reader` receives. */
export interface ChannelPair {
  readonly writer: Channel;
  readonly reader: Channel;
}

/** What a plugin tells the kit about its mechanism. */
export interface ConformanceTarget {
  /** The mechanism's name, for messages. */
  readonly name: string;
  /** A new connected pair in this process, opened with `options`. */
  pair(options?: OpenOptions): ChannelPair | Promise<ChannelPair>;
  /** The largest message the mechanism carries with these options. */
  readonly maxMessageSize: number;
  /** Whether a zero-length message arrives as one. Default: `true`. */
  readonly emptyMessages?: boolean;
  /**
   * Starts a child process running `args` under `process.execPath`, with `RXIPC_CHANNEL`
   * set to a URI of the other end of a new channel, and returns this end. Enables the
   * cross-process cases.
   */
  spawn?(
    args: readonly string[],
  ): { channel: Channel; child: ChildProcess } | Promise<{ channel: Channel; child: ChildProcess }>;
  /** A module URL the peer imports first (to register a plugin's scheme). */
  readonly peerSetup?: string;
  /** Names of the kernel objects this mechanism has now (files, queues, keys), for leak checks. */
  snapshot?(): readonly string[] | Promise<readonly string[]>;
  /** Provokes a kernel failure (for example opening a missing object) and returns the error. */
  systemError(): Promise<unknown>;
}

/** One behaviour to check; `run` throws an `Error` saying what went wrong. */
export interface ConformanceCase {
  readonly name: string;
  readonly run: () => Promise<void>;
  readonly timeoutMs: number;
  /**
   * The case drives a child process and mostly waits for it. Such cases (listed last) may run
   * at the same time as each other (`it.concurrent`), which halves their wall time; they
   * kill their own children when they end.
   */
  readonly crossProcess?: boolean;
}

const PEER = new URL(import.meta.url.endsWith('.ts') ? './peer.ts' : './peer.js', import.meta.url);

/** The conformance cases for `target`, in a stable order. */
export function conformanceCases(target: ConformanceTarget): ConformanceCase[] {
  const cases: ConformanceCase[] = [
    {
      name: 'keeps order',
      timeoutMs: 20_000,
      run: () =>
        withPair(target, {}, async ({ writer, reader }) => {
          const received = lastValueFrom(reader.pipe(take(1000), toArray()));
          for (let i = 0; i < 1000; i++) writer.next(seqMessage(i, 16));
          const seqs = (await received).map(readSeq);
          check(
            seqs.every((seq, i) => seq === i),
            `messages arrived out of order: ${seqs.slice(0, 20).join(',')}...`,
          );
        }),
    },
    {
      name: 'keeps message boundaries and bytes',
      timeoutMs: 20_000,
      run: () =>
        withPair(target, {}, async ({ writer, reader }) => {
          const sizes = [1, 7, 100, 4096, 5000, 65_535, 65_536, 65_537, 100_000].filter(
            (s) => s <= target.maxMessageSize,
          );
          const messages = sizes.map((size, i) => seqMessage(i, Math.max(4, size)));
          const received = lastValueFrom(reader.pipe(take(messages.length), toArray()));
          await Promise.all(messages.map((m) => writer.send(m)));
          const got = await received;
          for (const [i, message] of messages.entries()) {
            check(
              sameBytes(got[i]!, message),
              `message ${i} (${message.byteLength} bytes) arrived as ${got[i]?.byteLength} different bytes`,
            );
          }
        }),
    },
    {
      name: 'carries empty and maximum-size messages',
      timeoutMs: 30_000,
      run: () =>
        withPair(target, {}, async ({ writer, reader }) => {
          const biggest = seqMessage(7, target.maxMessageSize);
          const messages =
            target.emptyMessages === false
              ? [biggest]
              : [new Uint8Array(0), biggest, new Uint8Array(0)];
          const received = lastValueFrom(reader.pipe(take(messages.length), toArray()));
          for (const message of messages) await writer.send(message);
          const got = await received;
          check(
            got.every((m, i) => sameBytes(m, messages[i]!)),
            'empty or maximum-size messages changed on the way',
          );
        }),
    },
    {
      name: 'refuses an oversize message with a clear error',
      timeoutMs: 10_000,
      run: () =>
        withPair(target, {}, async ({ writer }) => {
          const error = await writer.send(new Uint8Array(target.maxMessageSize + 1)).then(
            () => undefined,
            (e: unknown) => e,
          );
          const code = (error as { code?: string } | undefined)?.code;
          check(
            code === 'ERR_RXIPC_FRAME_TOO_LARGE' || code === 'EMSGSIZE',
            `expected ERR_RXIPC_FRAME_TOO_LARGE or EMSGSIZE, got ${String(error)}`,
          );
          check(
            /\d+ bytes/.test((error as Error).message),
            `the message should name the sizes: ${(error as Error).message}`,
          );
        }),
    },
    {
      name: 'delivers 100,000 messages, none lost or duplicated',
      timeoutMs: 60_000,
      run: () =>
        withPair(target, {}, async ({ writer, reader }) => {
          const total = 100_000;
          let next = 0;
          let problem: string | undefined;
          const done = lastValueFrom(reader.pipe(take(total), toArray()));
          for (let i = 0; i < total; i++) {
            if (writer.pending >= writer.highWaterMark) await writer.ready();
            writer.next(seqMessage(i, 32));
          }
          for (const message of await done) {
            const seq = readSeq(message);
            if (seq !== next && problem === undefined)
              problem = `expected message ${next}, got ${seq}`;
            next++;
          }
          check(problem === undefined, problem ?? '');
          check(writer.stats.dropped === 0, `${writer.stats.dropped} messages were dropped`);
        }),
    },
    {
      name: 'keeps the pending buffer bounded under a slow consumer, in one process',
      timeoutMs: 30_000,
      run: () =>
        withPair(target, { highWaterMark: 16 }, async ({ writer, reader }) => {
          const total = 300;
          let maxPending = 0;
          const consumed = lastValueFrom(
            reader.pipe(
              boundedMergeMap((m) => timer(1).pipe(map(() => readSeq(m))), { concurrency: 1 }),
              take(total),
              toArray(),
            ),
          );
          for (let i = 0; i < total; i++) {
            if (writer.pending >= writer.highWaterMark) await writer.ready();
            writer.next(seqMessage(i, 1024));
            maxPending = Math.max(maxPending, writer.pending);
          }
          const seqs = await consumed;
          check(
            maxPending <= 16,
            `the writer held ${maxPending} pending messages (highWaterMark 16)`,
          );
          check(
            seqs.every((s, i) => s === i),
            'the slow consumer saw messages out of order',
          );
        }),
    },
    {
      name: 'reports kernel failures with the system-error shape',
      timeoutMs: 10_000,
      run: async () => {
        const error = await target.systemError();
        check(isSystemError(error), `expected code/errno/syscall, got ${String(error)}`);
        const e = error as { errno: number; message: string; code: string; syscall: string };
        check(e.errno < 0, `errno should be negative, as in Node: ${e.errno}`);
        check(
          e.message.startsWith(`${e.code}:`) && e.message.includes(e.syscall),
          `message not in Node's order: ${e.message}`,
        );
      },
    },
    {
      name: 'releases every descriptor and kernel object on unsubscribe and close',
      timeoutMs: 20_000,
      run: async () => {
        const fdsBefore = countOpenFds();
        const objectsBefore = [...((await target.snapshot?.()) ?? [])].sort();
        for (let round = 0; round < 3; round++) {
          await withPair(target, {}, async ({ writer, reader }) => {
            const received = lastValueFrom(reader.pipe(take(10), toArray()));
            for (let i = 0; i < 10; i++) await writer.send(seqMessage(i, 8));
            await received;
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        const fdsAfter = countOpenFds();
        const objectsAfter = [...((await target.snapshot?.()) ?? [])].sort();
        check(fdsAfter <= fdsBefore, `${fdsAfter - fdsBefore} descriptors were left open`);
        check(
          JSON.stringify(objectsAfter) === JSON.stringify(objectsBefore),
          `kernel objects left behind: ${objectsAfter.filter((o) => !objectsBefore.includes(o)).join(', ')}`,
        );
      },
    },
  ];

  if (target.spawn !== undefined) {
    const spawn = target.spawn.bind(target);
    cases.push(
      {
        name: 'a slow consumer in another process keeps both processes bounded, nothing lost',
        crossProcess: true,
        timeoutMs: 60_000,
        run: async () => {
          const total = 2000;
          const { channel, child } = await spawn([
            ...nodeArgsFor(PEER),
            'slow-consumer',
            String(total),
            target.peerSetup ?? '',
          ]);
          try {
            const report = spawnPeer(child, 50_000);
            const rssBefore = process.memoryUsage().rss;
            let maxPending = 0;
            for (let i = 0; i < total; i++) {
              if (channel.pending >= channel.highWaterMark) await channel.ready();
              channel.next(seqMessage(i, 1024));
              maxPending = Math.max(maxPending, channel.pending);
            }
            channel.complete(); // flushes what is pending, then the peer sees end of stream
            const result = await report;
            const rssGrowth = process.memoryUsage().rss - rssBefore;
            check(result.inOrder, 'the remote consumer saw messages out of order');
            check(
              result.count >= total,
              `the remote consumer got ${result.count} of ${total} messages`,
            );
            check(
              maxPending <= channel.highWaterMark,
              `the producer held ${maxPending} pending messages`,
            );
            check(rssGrowth < 64 * 1024 * 1024, `the producer grew by ${rssGrowth} bytes`);
            check(
              result.rssGrowth < 64 * 1024 * 1024,
              `the consumer grew by ${result.rssGrowth} bytes`,
            );
          } finally {
            child.kill('SIGKILL');
            await channel.close();
          }
        },
      },
      {
        name: 'a fast producer in another process waits for a slow consumer here',
        crossProcess: true,
        timeoutMs: 60_000,
        run: async () => {
          const total = 2000;
          const { channel, child } = await spawn([
            ...nodeArgsFor(PEER),
            'fast-producer',
            String(total),
            target.peerSetup ?? '',
          ]);
          try {
            const report = spawnPeer(child, 50_000);
            const rssBefore = process.memoryUsage().rss;
            let maxRss = rssBefore;
            const seqs = await lastValueFrom(
              channel.pipe(
                boundedMergeMap(
                  (m) => {
                    maxRss = Math.max(maxRss, process.memoryUsage().rss);
                    return timer(1).pipe(map(() => readSeq(m)));
                  },
                  { concurrency: 1 },
                ),
                take(total + 1),
                toArray(),
              ),
            );
            const result = await report;
            check(
              seqs.every((s, i) => s === i),
              'messages arrived out of order',
            );
            check(
              result.maxPending <= 1024,
              `the remote producer held ${result.maxPending} pending messages`,
            );
            check(
              maxRss - rssBefore < 64 * 1024 * 1024,
              `the consumer grew by ${maxRss - rssBefore} bytes`,
            );
          } finally {
            child.kill('SIGKILL');
            await channel.close();
          }
        },
      },
    );
  }
  return cases;
}

async function withPair(
  target: ConformanceTarget,
  options: OpenOptions,
  body: (pair: ChannelPair) => Promise<void>,
): Promise<void> {
  const pair = await target.pair(options);
  try {
    await body(pair);
  } finally {
    await Promise.all([pair.writer.close(), pair.reader.close()]);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
