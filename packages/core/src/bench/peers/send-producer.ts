/**
 * The `process.send` baseline's producer, started by `send-consumer` with an IPC channel:
 * `send-producer COUNT SIZE`. Sends COUNT messages `{ data: 'aaa…' }` (a SIZE-character ASCII
 * string; on the wire, JSON: `{"data":"aaa…"}\n`, SIZE + 12 bytes) with at most 1024 not yet
 * written (counted by `process.send`'s callback), then `{ end: true }`, then disconnects.
 */
import { fail, peerArgs } from './protocol.js';

const WINDOW = 1024;

const args = peerArgs(['count', 'size'] as const);
const count = Number(args.count);
const message = { data: 'a'.repeat(Number(args.size)) };

const send = process.send?.bind(process);
if (send === undefined) fail('started without an IPC channel');

let finished = false;
process.on('disconnect', () => {
  if (!finished) fail('the consumer went away');
});

let inFlight = 0;
let wake: (() => void) | undefined;
const written = (error: Error | null): void => {
  if (error !== null) fail(error);
  inFlight--;
  if (wake !== undefined && inFlight < WINDOW) {
    const resolve = wake;
    wake = undefined;
    resolve();
  }
};

for (let i = 0; i < count; i++) {
  if (inFlight >= WINDOW) await new Promise<void>((resolve) => (wake = resolve));
  inFlight++;
  send(message, undefined, undefined, written);
}
send({ end: true }, undefined, undefined, (error: Error | null) => {
  if (error !== null) fail(error);
  // Disconnecting is how the consumer's 'exit' follows promptly; it never disconnects first.
  finished = true;
  if (process.connected) process.disconnect();
});
