/**
 * `node --import tsx --conditions=@rxipc/source host-b.ts [--listen tcp://HOST:PORT]`
 *
 * Host B: serves its half of the pipeline over TCP. Each connection runs its own copy of the
 * half (its own processes); backpressure crosses TCP both ways. Prints `listening <uri>` once
 * bound (port 0, the default, lets the kernel choose).
 */
import { parseArgs } from 'node:util';

import { serve } from '@rxipc/core';

import { primes } from './segments.js';

const { values } = parseArgs({
  options: { listen: { type: 'string', default: 'tcp://127.0.0.1:0' } },
});

serve(values.listen, primes, {
  onListening: (uri) => process.stdout.write(`listening ${uri}\n`),
  onError: (error) => process.stderr.write(`host-b: ${(error as Error).message}\n`),
}).subscribe({
  error: (error: Error) => {
    process.stderr.write(`host-b: ${error.message}\n`);
    process.exitCode = 1;
  },
});
process.on('SIGTERM', () => process.exit(0));
