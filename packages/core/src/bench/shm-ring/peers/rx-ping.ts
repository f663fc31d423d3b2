/**
 * The rxipc ping: `rx-ping URI COUNT SIZE`. Joins the ring (the pong created it), then sends
 * one message at a time and waits for its echo, COUNT times after 1,000 warm-up round trips,
 * and prints the bench protocol's result line with the round-trip percentiles added:
 * `{"event":"result","messages":N,"bytes":0,"seconds":S,"p50":S,"p99":S}` (seconds).
 */
import { open } from '@rxipc/adapters';

import { fail, peerArgs } from '../../peers/protocol.js';

const args = peerArgs(['uri', 'count', 'size'] as const);
const count = Number(args.count);
const WARM_UP = 1000;

const channel = open(args.uri);
const message = new Uint8Array(Number(args.size)).fill(0x61);
const rtt = new Float64Array(count);
let index = -WARM_UP;
let sentAt = 0n;

channel.subscribe({
  next() {
    const now = process.hrtime.bigint();
    if (index >= 0) rtt[index] = Number(now - sentAt) / 1e9;
    index++;
    if (index < count) {
      sentAt = process.hrtime.bigint();
      channel.next(message);
      return;
    }
    rtt.sort();
    const p50 = rtt[Math.floor(count / 2)]!;
    const p99 = rtt[Math.floor((count * 99) / 100)]!;
    const seconds = rtt.reduce((sum, t) => sum + t, 0);
    const line = { event: 'result', messages: count, bytes: 0, seconds, p50, p99 };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    channel.complete();
    channel.close().then(() => process.exit(0), fail);
  },
  error: fail,
});
sentAt = process.hrtime.bigint();
channel.next(message);
