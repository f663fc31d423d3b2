/**
 * The conformance kit's remote peer: opens `RXIPC_CHANNEL`, plays one role, and prints a JSON
 * report on its last stdout line. `node peer.js <role> <count> [setupModule]`.
 * - `slow-consumer`: takes 1 ms per message (with demand through boundedMergeMap), checks order.
 * - `fast-producer`: sends `count` numbered messages as fast as the channel accepts them.
 */
import { lastValueFrom, timer, map, count as countOp, take } from 'rxjs';

// The package entry, so the built-in adapters are registered.
import { boundedMergeMap, open, parentChannelUri } from '../index.js';
import { readSeq, seqMessage } from './sequence.js';

const [role, countText, setup] = process.argv.slice(2);
const total = Number(countText);
if (setup !== undefined && setup !== '') await import(setup);

const channel = open(parentChannelUri());
const startRss = process.memoryUsage().rss;
let maxRss = startRss;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 20);

if (role === 'slow-consumer') {
  let expected = 0;
  let inOrder = true;
  const received = await lastValueFrom(
    channel.pipe(
      boundedMergeMap(
        (message) => {
          if (readSeq(message) !== expected++) inOrder = false;
          return timer(1).pipe(map(() => message));
        },
        { concurrency: 1 },
      ),
      // `count` messages, or fewer if the stream ends first: message queues have no end of
      // stream, so the count, not the producer's complete(), tells when all have arrived.
      take(total),
      countOp(),
    ),
  );
  report({ count: received, inOrder, maxPending: 0 });
} else if (role === 'fast-producer') {
  let maxPending = 0;
  for (let i = 0; i < total; i++) {
    if (channel.pending >= channel.highWaterMark) await channel.ready();
    channel.next(seqMessage(i, 64));
    maxPending = Math.max(maxPending, channel.pending);
  }
  await channel.send(seqMessage(total, 64)); // the last one, awaited: everything before it is in the kernel
  channel.complete();
  report({ count: total + 1, inOrder: true, maxPending });
} else {
  throw new Error(`unknown role ${role}`);
}

function report(fields: { count: number; inOrder: boolean; maxPending: number }): void {
  clearInterval(sampler);
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ ...fields, rssGrowth: maxRss - startRss })}\n`);
  void channel.close().then(() => process.exit(0));
}
