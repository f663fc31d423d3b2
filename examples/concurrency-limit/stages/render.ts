/**
 * Renders one job with the "licensed renderer", of which only a few may run at once across
 * every process: each job waits for a permit of the named semaphore given in `config`, and
 * gives it back when it is done (or fails, or is cancelled).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { posixSemaphore, type PosixSemaphore, withPermit } from '@rxipc/adapters';
import { defineStage } from '@rxipc/core';
import { defer } from 'rxjs';

export interface Rendered {
  readonly job: number;
  readonly pid: number;
  /** When the job held the permit (ms since the epoch, sub-millisecond). */
  readonly start: number;
  readonly end: number;
}

let licenses: PosixSemaphore | undefined;

export default defineStage({
  // Four jobs at once in each process: more than the licenses allow.
  concurrency: 4,
  map(job: number, context) {
    const { semaphore } = context.config as { semaphore: string };
    // Opened once per process; the main program created it and removes it.
    licenses ??= posixSemaphore({ name: semaphore, create: false });
    return withPermit(licenses)(
      defer(async (): Promise<Rendered> => {
        const start = performance.timeOrigin + performance.now();
        await sleep(20);
        const end = performance.timeOrigin + performance.now();
        return { job, pid: process.pid, start, end };
      }),
    );
  },
});
