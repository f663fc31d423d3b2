/** The two halves of the pipeline, so that one host or two run the very same stages. */
import { pipeline, stage } from '@rxipc/core';
import type { Observable } from 'rxjs';

import type * as Prime from './stages/prime.js';
import type * as Square from './stages/square.js';

/** Host A's half: n² + 1, in two processes. */
export const square = stage<typeof Square>(new URL('./stages/square.ts', import.meta.url), {
  replicas: 2,
});

/** Host B's half: the primes among them, in two processes. */
export function primes(numbers: Observable<number>): Observable<number> {
  return pipeline(
    numbers,
    stage<typeof Prime>(new URL('./stages/prime.ts', import.meta.url), { replicas: 2 }),
  );
}
