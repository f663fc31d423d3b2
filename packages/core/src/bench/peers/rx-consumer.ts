/**
 * The rxipc consumer: `rx-consumer URI COUNT SIZE`. Opens `URI` with `open()` (default
 * framing: 4-byte big-endian length prefix) and counts messages and payload bytes in an
 * ordinary RxJS subscriber, then reports the time from the first message to completion, or to
 * the COUNTth message (message queues have no end of stream).
 *
 * Both consumers (this one and `net-consumer`) count bytes with `length`, not `byteLength`:
 * on Node 20 `byteLength` is a builtin call (~9 ns), which would measure V8, not the transport.
 */
import { open } from '@rxipc/adapters';

import { fail, peerArgs, reportReady, reportResult } from './protocol.js';

const args = peerArgs(['uri', 'count', 'size'] as const);
const expected = { count: Number(args.count), size: Number(args.size) };

const channel = open(args.uri);
const received = { messages: 0, bytes: 0, start: 0n };
let reported = false;
const finish = (): void => {
  if (reported) return;
  reported = true;
  reportResult(received, expected);
  channel.close().catch(fail);
};
channel.subscribe({
  next(message) {
    if (received.messages === 0) received.start = process.hrtime.bigint();
    received.messages++;
    received.bytes += message.length;
    // Message queues have no end of stream: the count tells when everything has arrived.
    if (received.messages === expected.count) finish();
  },
  error: fail,
  complete: finish,
});
reportReady();
