/**
 * `node --import tsx --conditions=@rxipc/source main.ts [--count N] [--remote tcp://HOST:PORT]`
 *
 * Host A: 1..N → square (here) → primes (here, or on host B through `connect`) → the count
 * and the last few primes of the form n² + 1. With or without `--remote`, the answer is the
 * same.
 */
import { parseArgs } from 'node:util';

import { connect, pipeline } from '@rxipc/core';
import { lastValueFrom, toArray } from 'rxjs';

import { primes, square } from './segments.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    remote: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

function* numbers(): Generator<number> {
  for (let n = 1; n <= Number(values.count); n++) yield n;
}

const remote = values.remote;
const found = await lastValueFrom(
  (remote === undefined
    ? pipeline(numbers(), square, primes)
    : pipeline(numbers(), square, connect<number, number>(remote))
  ).pipe(toArray()),
);
const result = { where: remote ?? 'here', primes: found.length, last: found.slice(-3) };
process.stdout.write(
  values.json
    ? `${JSON.stringify(result)}\n`
    : `${result.primes} primes of the form n² + 1 for n ≤ ${values.count} (computed ${remote === undefined ? 'on this host' : `on ${remote}`}); the last: ${result.last.join(', ')}\n`,
);
