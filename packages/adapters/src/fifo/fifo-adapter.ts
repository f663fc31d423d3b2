import { defineAdapter } from '../adapter.js';
import { fifoTransport } from './fifo-transport.js';
import { FIFO_OPTIONS, type FifoEndpoint, parseFifoUri } from './uri.js';

/**
 * `fifo:/path` is a named pipe (fifo(7)), made with mode 0600 unless it exists (`?mode=0660`;
 * `?create=false` requires an existing one). Reading completes when the last writer closes
 * (`?reopen=true` keeps listening for the next writer instead); writing waits, without
 * blocking, until some process opens the FIFO for reading. A FIFO the channel made is removed
 * when the channel closes; one it found is left alone.
 *
 * @example
 * ```ts
 * open('fifo:/tmp/jobs?framing=line&codec=utf8').subscribe(console.log); // echo hi > /tmp/jobs
 * ```
 */
export const fifoAdapter = defineAdapter<FifoEndpoint>({
  scheme: 'fifo',
  kind: 'stream',
  description: 'a named pipe: fifo:/tmp/jobs (?create=false, ?mode=0660, ?reopen=true)',
  options: FIFO_OPTIONS,
  parse: parseFifoUri,
  connect: (endpoint) => fifoTransport(endpoint),
});
