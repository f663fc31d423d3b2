/**
 * The `net` baseline's consumer: `net-consumer PATH COUNT SIZE`. Listens on a Unix socket,
 * takes one connection, and cuts length-prefixed frames out of its `'data'` chunks by hand
 * (no RxJS): a frame inside one chunk is a view of it, a frame that spans chunks is copied
 * together, as rxipc's decoder does. Counts messages and bytes until the peer ends.
 */
import { createServer } from 'node:net';

import { fail, peerArgs, reportReady, reportResult } from './protocol.js';

const args = peerArgs(['path', 'count', 'size'] as const);
const expected = { count: Number(args.count), size: Number(args.size) };
const received = { messages: 0, bytes: 0, start: 0n };

function deliver(message: Uint8Array): void {
  if (received.messages === 0) received.start = process.hrtime.bigint();
  received.messages++;
  received.bytes += message.length;
}

const header = new Uint8Array(4);
let headerFilled = 0;
let partial: Uint8Array | undefined;
let partialFilled = 0;

function parse(chunk: Uint8Array): void {
  let at = 0;
  const end = chunk.length;
  while (at < end) {
    if (partial !== undefined) {
      const take = Math.min(partial.length - partialFilled, end - at);
      partial.set(chunk.subarray(at, at + take), partialFilled);
      partialFilled += take;
      at += take;
      if (partialFilled < partial.length) return;
      const message = partial;
      partial = undefined;
      deliver(message);
      continue;
    }
    let length: number;
    if (headerFilled === 0 && end - at >= 4) {
      length =
        ((chunk[at]! << 24) | (chunk[at + 1]! << 16) | (chunk[at + 2]! << 8) | chunk[at + 3]!) >>>
        0;
      at += 4;
    } else {
      while (headerFilled < 4 && at < end) header[headerFilled++] = chunk[at++]!;
      if (headerFilled < 4) return;
      headerFilled = 0;
      length = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
    }
    if (length !== expected.size) fail(`a frame of ${length} bytes, expected ${expected.size}`);
    if (end - at >= length) {
      deliver(chunk.subarray(at, at + length));
      at += length;
    } else {
      partial = new Uint8Array(length);
      partialFilled = 0;
    }
  }
}

const server = createServer((socket) => {
  server.close();
  socket.on('data', parse);
  socket.on('error', fail);
  socket.on('end', () => {
    if (partial !== undefined || headerFilled > 0) fail('end of stream inside a frame');
    reportResult(received, expected);
  });
});
server.on('error', fail);
server.listen(args.path, reportReady);
