/**
 * The batched `net` baseline's producer: `net-batched-producer PATH COUNT SIZE`. Like
 * `net-producer`, but frames (a 4-byte big-endian length, then SIZE bytes) are packed into
 * writes of about 64 KiB, which is what makes raw Node sockets fast (BASELINES.md: 6-10x one
 * write per frame). The consumer is the same `net-consumer`, parsing frames by hand.
 */
import { once } from 'node:events';
import { connect } from 'node:net';

import { fail, peerArgs } from '../../peers/protocol.js';

const args = peerArgs(['path', 'count', 'size'] as const);
const count = Number(args.count);
const size = Number(args.size);

const frameSize = 4 + size;
const perWrite = Math.max(1, Math.floor(65536 / frameSize));
const batch = Buffer.alloc(perWrite * frameSize, 0x61);
for (let i = 0; i < perWrite; i++) batch.writeUInt32BE(size, i * frameSize);

const socket = connect(args.path);
socket.on('error', fail);
await once(socket, 'connect');
for (let sent = 0; sent < count; sent += perWrite) {
  const frames = Math.min(perWrite, count - sent);
  // A fresh view each time: net may hold the buffer until written, and it never changes.
  const chunk = frames === perWrite ? batch : batch.subarray(0, frames * frameSize);
  if (!socket.write(chunk)) await once(socket, 'drain');
}
socket.end();
