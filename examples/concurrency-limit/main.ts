/**
 * `node --import tsx --conditions=@rxipc/source main.ts [--jobs N] [--permits N] [--json]`
 *
 * Creates a named POSIX semaphore with `permits` licenses, runs `jobs` render jobs on three
 * worker processes (four at once in each), and reports the most jobs that ever held a license
 * at the same time: never more than `permits`.
 */
import { parseArgs } from 'node:util';

import { posixSemaphore } from '@rxipc/adapters';
import { pipeline, stage } from '@rxipc/core';
import { lastValueFrom, toArray } from 'rxjs';

import type * as Render from './stages/render.js';
import type { Rendered } from './stages/render.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '60' },
    permits: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const permits = Number(values.permits);

// Created here (and recorded in the registry of named objects); removed on close, at exit,
// on SIGINT/SIGTERM, or by `rxipc clean` if this process is killed.
const name = `/rxipc-licenses-${process.pid}`;
const licenses = posixSemaphore({ name, initial: permits });
try {
  const render = stage<typeof Render>(new URL('./stages/render.ts', import.meta.url), {
    replicas: 3,
    ordered: false,
    // As many jobs in flight per process as it runs at once, so that all three get work.
    window: 4,
    config: { semaphore: name },
  });
  const jobs = Array.from({ length: Number(values.jobs) }, (_, i) => i);
  const done = await lastValueFrom(pipeline(jobs, render).pipe(toArray()));
  const summary = {
    jobs: done.length,
    permits,
    maxConcurrent: maxOverlap(done),
    processes: new Set(done.map((r) => r.pid)).size,
  };
  process.stdout.write(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : `${summary.jobs} jobs on ${summary.processes} processes; at most ${summary.maxConcurrent} held a license at once (limit ${permits})\n`,
  );
} finally {
  licenses.close();
}

/** The most intervals that overlap at any instant (an end at the same time as a start: no overlap). */
function maxOverlap(intervals: readonly Rendered[]): number {
  const events = intervals.flatMap((r) => [
    [r.start, 1],
    [r.end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (now += delta!));
  return most;
}
