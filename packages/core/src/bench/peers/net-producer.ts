/**
 * The `net` baseline's producer: `net-producer PATH COUNT SIZE`. Connects to the consumer's
 * Unix socket and writes COUNT frames (a 4-byte big-endian length, then SIZE bytes), one
 * `socket.write()` per frame, waiting for `'drain'` whenever `write()` returns `false`.
 */
import { once } from 'node:events';
import { connect } from 'node:net';

import { fail, peerArgs } from './protocol.js';

const args = peerArgs(['path', 'count', 'size'] as const);
const count = Number(args.count);
const size = Number(args.size);

// One buffer for every frame: its content never changes, so sharing it is safe.
const frame = Buffer.alloc(4 + size, 0x61);
frame.writeUInt32BE(size, 0);

const socket = connect(args.path);
socket.on('error', fail);
await once(socket, 'connect');
for (let i = 0; i < count; i++) {
  if (!socket.write(frame)) await once(socket, 'drain');
}
socket.end();
