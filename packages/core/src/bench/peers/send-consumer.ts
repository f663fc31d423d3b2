/**
 * The `process.send` baseline's consumer: `send-consumer COUNT SIZE PRODUCER_CPU TASKSET`.
 * Node's IPC channel joins a parent and its child only, so this consumer starts the producer
 * itself, pinned with `TASKSET -c PRODUCER_CPU`, with `serialization: 'json'` (the default),
 * and counts `'message'` events until the producer's `{ end: true }`; the producer then
 * disconnects and exits.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { fail, peerArgs, reportReady, reportResult } from './protocol.js';

const args = peerArgs(['count', 'size', 'producerCpu', 'taskset'] as const);
const expected = { count: Number(args.count), size: Number(args.size) };
const received = { messages: 0, bytes: 0, start: 0n };

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const producer = fileURLToPath(new URL(`./send-producer${extension}`, import.meta.url));
const child = spawn(
  args.taskset,
  ['-c', args.producerCpu, process.execPath, ...process.execArgv, producer, args.count, args.size],
  { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' },
);

let ended = false;
child.on('message', (message: { data?: string; end?: boolean }) => {
  if (message.end === true) {
    ended = true;
    reportResult(received, expected);
    return;
  }
  if (received.messages === 0) received.start = process.hrtime.bigint();
  received.messages++;
  received.bytes += message.data!.length;
});
child.on('error', fail);
child.on('exit', (code, signal) => {
  if (!ended || code !== 0) fail(`the producer exited with ${signal ?? `status ${code}`}`);
});
reportReady();
