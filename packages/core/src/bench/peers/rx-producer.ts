/**
 * The rxipc producer: `rx-producer URI COUNT SIZE`. Sends COUNT messages of SIZE bytes as
 * fast as the channel takes them: `next()` while fewer than `highWaterMark` messages are
 * pending, else `await ready()`, so nothing is dropped and memory stays bounded. The last
 * message goes through `send()`, whose promise rejects if the channel failed on the way;
 * then `complete()` ends the write side, which the consumer sees as end of stream.
 */
import { open } from '@rxipc/adapters';

import { fail, peerArgs } from './protocol.js';

const args = peerArgs(['uri', 'count', 'size'] as const);
const count = Number(args.count);

const channel = open(args.uri);
// One buffer for every message: the channel holds references until the kernel takes them,
// and the content never changes, so sharing it is safe (and costs the producer nothing).
const message = new Uint8Array(Number(args.size)).fill(0x61);

try {
  for (let i = 1; i < count; i++) {
    if (channel.pending >= channel.highWaterMark) await channel.ready();
    channel.next(message);
  }
  if (count > 0) await channel.send(message);
  channel.complete();
} catch (error) {
  fail(error);
}
