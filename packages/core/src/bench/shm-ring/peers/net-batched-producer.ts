/**
 * The batched `net` baseline's producer: `net-batched-producer PATH COUNT SIZE MODE`. Like
 * `net-producer`, but frames (a 4-byte big-endian length, then SIZE bytes) go out in writes of
 * about 64 KiB, which is what makes raw Node sockets fast (BASELINES.md: 6-10x one write per
 * frame). The consumer is the same `net-consumer`, parsing frames by hand.
 *
 * MODE `pack` packs every message into the batch, as a real batching producer
 * must: a length word and a copy of the message, then a fresh batch once one is handed to
 * `net` (which may hold it until it is written). That is the work the ring's producer does
 * for each message too. MODE `prebuilt` writes one batch built at start again and again: no
 * work per message at all, so it measures the consumer alone (kept to show the gap).
 */
import { once } from 'node:events';
import { connect } from 'node:net';

import { fail, peerArgs } from '../../peers/protocol.js';

const args = peerArgs(['path', 'count', 'size', 'mode'] as const);
const count = Number(args.count);
const size = Number(args.size);
const mode = args.mode;
if (mode !== 'pack' && mode !== 'prebuilt') fail(`MODE must be pack or prebuilt, got ${mode}`);

const frameSize = 4 + size;
const batchSize = Math.max(1, Math.floor(65536 / frameSize)) * frameSize;

const socket = connect(args.path);
socket.on('error', fail);
await once(socket, 'connect');

if (mode === 'prebuilt') {
  const batch = Buffer.alloc(batchSize, 0x61);
  for (let at = 0; at < batchSize; at += frameSize) batch.writeUInt32BE(size, at);
  for (let sent = 0; sent < count; sent += batchSize / frameSize) {
    const frames = Math.min(batchSize / frameSize, count - sent);
    const chunk = frames * frameSize === batchSize ? batch : batch.subarray(0, frames * frameSize);
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
} else {
  // The same message object every time, as rx-producer sends: the copy is what counts.
  const message = new Uint8Array(size).fill(0x61);
  let batch = Buffer.allocUnsafe(batchSize);
  let at = 0;
  for (let sent = 1; sent <= count; sent++) {
    batch.writeUInt32BE(size, at);
    batch.set(message, at + 4);
    at += frameSize;
    if (at === batchSize || sent === count) {
      const written = socket.write(at === batchSize ? batch : batch.subarray(0, at));
      batch = Buffer.allocUnsafe(batchSize);
      at = 0;
      if (!written) await once(socket, 'drain');
    }
  }
}
socket.end();
