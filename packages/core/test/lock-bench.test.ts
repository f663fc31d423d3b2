import { readdirSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { formatLockTable, lockBenchCases, runLockBench } from '../src/bench/index.js';

/** Pids of live processes whose environment carries `RXIPC_BENCH_RUN=<runId>`. */
function processesOfRun(runId: string): number[] {
  const marker = `RXIPC_BENCH_RUN=${runId}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) {
        found.push(Number(entry));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('runLockBench', () => {
  it('registers a lock case for every semaphore and lock kind', () => {
    expect([...lockBenchCases().keys()]).toEqual([
      'posix-sem',
      'sysv-sem',
      'shared-sem',
      'flock',
      'ofd',
      'robust-mutex',
    ]);
  });

  it('measures ping-pong next to C and uncontended throughput, and leaves nothing behind', async () => {
    const progress: string[] = [];
    const report = await runLockBench({
      quick: true,
      mechanisms: ['posix-sem', 'robust-mutex'],
      placements: ['same'],
      onProgress: (p) => progress.push(p.what),
    });
    expect(report.pingPong.map((row) => [row.mechanism, row.placement])).toEqual([
      ['posix-sem', 'same'],
    ]);
    expect(report.uncontended.map((row) => row.mechanism)).toEqual(['posix-sem', 'robust-mutex']);
    for (const row of report.pingPong) {
      expect(row.rxipcMicros).toBeGreaterThan(0);
      expect(row.cMicros).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.rxipcMicros / row.cMicros);
    }
    for (const row of report.uncontended) {
      expect(row.rxipcOpsPerSecond).toBeGreaterThan(0);
      expect(row.cOpsPerSecond).toBeGreaterThan(0);
    }
    expect(progress).toHaveLength(1 * 2 + 2 * 2);
    const table = formatLockTable(report);
    expect(table).toMatch(/^posix-sem +same /m);
    expect(table).toContain('rxipc / C');
    expect(processesOfRun(report.runId)).toEqual([]);
  }, 120_000);

  it('refuses an unknown mechanism with a RangeError', async () => {
    await expect(runLockBench({ mechanisms: ['nope'] })).rejects.toThrow(RangeError);
  });
});
