import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { boundedMergeMap } from '@rxipc/adapters';
import {
  concat,
  firstValueFrom,
  lastValueFrom,
  map,
  mergeMap,
  of,
  take,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

import { pipeline, StageError, stage, type CrashEvent } from '../src/index.js';
import type * as Work from './fixtures/stages/work.js';
import type { Worked } from './fixtures/stages/work.js';
import { fixtureStage, isRunning, ProcessLog, waitFor } from './support.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

let log = new ProcessLog();
afterEach(async () => {
  await log.cleanUp();
  log = new ProcessLog();
});

const work = (options: Parameters<typeof stage>[1] = {}) =>
  stage<typeof Work>(fixtureStage('work'), {
    output: 'capture',
    ...options,
  });

// Processes start slowly on a loaded machine (tsx compiles each one's sources).
describe('pipeline', { timeout: 60_000 }, () => {
  it('runs a per-message stage in replicas and keeps the input order', async () => {
    const p = log.watch(
      pipeline(range(2000), work({ replicas: 3, window: 32, config: { delayMs: 'random' } })),
    );
    const out = await lastValueFrom(p.pipe(toArray()));
    expect(out.map((w) => w.n)).toEqual(range(2000));
    expect(new Set(out.map((w) => w.replica)).size).toBe(3);
    expect(log.running()).toEqual([]);
  });

  it('delivers every message once in completion order when ordered is false', async () => {
    const p = log.watch(
      pipeline(range(1000), work({ replicas: 2, ordered: false, config: { delayMs: 'random' } })),
    );
    const out = await lastValueFrom(p.pipe(toArray()));
    expect(out.map((w) => w.n).sort((a, b) => a - b)).toEqual(range(1000));
  });

  it('completes stage by stage: a stream stage sees every message, then the end', async () => {
    const collect = stage(fixtureStage('collect'), { output: 'capture' });
    const p = log.watch(pipeline(range(5000), work({ replicas: 2 }), collect));
    const out = await lastValueFrom(p.pipe(toArray()));
    expect(out).toEqual([{ n: -1, count: 5000, sum: (4999 * 5000) / 2 }]);
    const exits = log.events.filter((e) => e.type === 'exit');
    expect(exits).toHaveLength(3);
    for (const exit of exits) expect(exit).toMatchObject({ status: { code: 0, signal: null } });
  });

  it('slows the source to the pace of a slow consumer, with every buffer bounded', async () => {
    let pulled = 0;
    function* numbers(): Generator<number> {
      for (let n = 0; ; n++) {
        pulled++;
        yield n;
      }
    }
    const window = 8;
    const p = log.watch(pipeline(numbers(), work({ replicas: 2, window })));
    let consumed = 0;
    let widest = 0;
    const out = await lastValueFrom(
      p.pipe(
        boundedMergeMap((w: Worked) => timer(1).pipe(map(() => w.n)), { concurrency: 1 }),
        map((n) => {
          consumed++;
          widest = Math.max(widest, pulled - consumed);
          return n;
        }),
        take(300),
        toArray(),
      ),
    );
    expect(out).toEqual(range(300));
    // Per replica at most `window` messages in flight and `window` outputs waiting for the
    // consumer; then one in the consumer, and the one the source yields as the valve closes.
    expect(widest).toBeLessThanOrEqual(2 * 2 * window + 2);
    await waitFor(() => log.running().length === 0, 5000, 'the replicas to stop');
  });

  it('replaces a SIGKILLed replica under its restart policy, redelivers, and reports the crash', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-pipeline-test-'));
    try {
      const p = log.watch(
        pipeline(
          range(1000),
          work({
            restart: { max: 2, backoff: 50 },
            config: { killAt: 400, killOnceFile: path.join(dir, 'killed'), delayMs: 0 },
          }),
        ),
      );
      const out = await lastValueFrom(p.pipe(toArray()));
      // Every input's output once, in order: the crashed replica's unfinished messages were
      // delivered again and their partial outputs dropped.
      expect(out.map((w) => w.n)).toEqual(range(1000));
      const crashes = log.events.filter((e): e is CrashEvent => e.type === 'crash');
      expect(crashes).toHaveLength(1);
      const crash = crashes[0]!;
      expect(crash).toMatchObject({ stage: 'work', restarting: true, delayMs: 50 });
      expect(crash.redelivered).toBeGreaterThanOrEqual(1);
      expect(crash.error).toBeInstanceOf(StageError);
      expect(crash.error).toMatchObject({ code: 'ERR_RXIPC_STAGE_CRASHED', signal: 'SIGKILL' });
      expect(crash.error.message).toMatch(
        new RegExp(
          `^stage work \\(pid ${crash.pid}\\) was killed by SIGKILL after 0 of 2 restarts`,
        ),
      );
      // The replacement finished the work, from the redelivered messages on.
      const replacement = log.events.find((e) => e.type === 'spawn' && e.restarts === 1);
      expect(replacement).toMatchObject({ replica: 0 });
      expect(out.slice(400).every((w) => w.pid === replacement!.pid)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the stage, pid, exit code and stderr tail when no restart is left', async () => {
    const p = log.watch(pipeline(range(100), work({ config: { exitAt: 10 } })));
    const error = (await lastValueFrom(p).catch((e: unknown) => e)) as StageError;
    expect(error).toBeInstanceOf(StageError);
    const pid = [...log.pids][0]!;
    expect(error).toMatchObject({
      code: 'ERR_RXIPC_STAGE_CRASHED',
      stage: 'work',
      pid,
      exitCode: 3,
    });
    expect(error.message).toMatch(new RegExp(`^stage work \\(pid ${pid}\\) exited with code 3`));
    expect(error.message).toContain('work: giving up at 10');
    expect(error.stderr).toContain('work: giving up at 10');
  });

  it("fails with the stage function's own error, and does not restart it", async () => {
    const p = log.watch(pipeline(range(100), work({ restart: { max: 3 }, config: { failAt: 5 } })));
    const error = (await lastValueFrom(p).catch((e: unknown) => e)) as StageError;
    expect(error).toMatchObject({ code: 'ERR_RXIPC_STAGE_FAILED', stage: 'work' });
    expect(error.message).toMatch(/^stage work \(pid \d+\) failed: work cannot take 5/);
    expect((error.cause as Error).message).toBe('work cannot take 5');
    expect(log.events.filter((e) => e.type === 'spawn')).toHaveLength(1);
  });

  it('fails without restarting when the stage module cannot be loaded', async () => {
    const missing = stage(new URL('./fixtures/stages/no-such-stage.ts', import.meta.url), {
      restart: { max: 3 },
      output: 'capture',
    });
    const error = await lastValueFrom(log.watch(pipeline(range(3), missing))).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_RXIPC_STAGE_FAILED', stage: 'no-such-stage' });
    expect((error as Error).message).toMatch(/failed: Cannot find module/);
    expect(log.events.filter((e) => e.type === 'spawn')).toHaveLength(1);
  });

  it("passes the source's error on and stops the stage's processes", async () => {
    const broken = concat(
      of(1, 2, 3),
      timer(300).pipe(mergeMap(() => throwError(() => new Error('the source broke')))),
    );
    const error = await lastValueFrom(log.watch(pipeline(broken, work({ replicas: 2 })))).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ message: 'the source broke' });
    await waitFor(() => log.running().length === 0, 5000, 'the replicas to stop');
  });

  it('refuses to order a stream stage across replicas', async () => {
    const collect = stage(fixtureStage('collect'), {
      replicas: 2,
      ordered: true,
      output: 'capture',
    });
    const error = await lastValueFrom(log.watch(pipeline(range(10), collect))).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_RXIPC_STAGE_INVALID' });
    expect((error as Error).message).toMatch(/cannot be ordered across replicas/);
  });

  it('stops every process on unsubscribe, with SIGKILL after the grace period', async () => {
    const stubborn = stage(fixtureStage('stubborn'), { gracePeriodMs: 300, output: 'capture' });
    // An endless source: the stubborn stage never reads, so the work stage soon waits.
    function* numbers(): Generator<number> {
      for (let n = 0; ; n++) yield n;
    }
    const p = log.watch(pipeline(numbers(), work({ replicas: 2 }), stubborn));
    expect(await firstValueFrom(p)).toBe('ready');
    // firstValueFrom unsubscribed: SIGTERM to all, SIGKILL to the one that ignores it.
    await waitFor(() => log.events.filter((e) => e.type === 'exit').length === 3, 5000, 'exits');
    const exits = log.events.flatMap((e) => (e.type === 'exit' ? [[e.stage, e.status]] : []));
    expect(exits).toEqual(
      expect.arrayContaining([
        ['work', { code: null, signal: 'SIGTERM' }],
        ['stubborn', { code: null, signal: 'SIGKILL' }],
      ]),
    );
    for (const pid of log.pids) expect(isRunning(pid)).toBe(false);
  });
});
