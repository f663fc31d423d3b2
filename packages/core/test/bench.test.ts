import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  BenchError,
  formatTable,
  registerBenchCase,
  runBench,
  type BenchReport,
} from '../src/bench/index.js';
import { childrenOfThisProcess } from './support.js';

/** Pids of live processes whose environment carries `RXIPC_BENCH_RUN=<runId>`. */
function processesOfRun(runId: string): number[] {
  const marker = `RXIPC_BENCH_RUN=${runId}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return found;
}

describe('runBench', () => {
  it('measures pipes in both placements against every baseline and leaves no process behind', async () => {
    const before = childrenOfThisProcess();
    const progress: string[] = [];
    const report: BenchReport = await runBench({
      quick: true,
      mechanisms: ['pipe'],
      sizes: [64, 64 * 1024],
      placements: ['same', 'cross'],
      onProgress: (p) => progress.push(`${p.contender} ${p.size} ${p.placement}`),
    });

    const placements = report.skipped.length === 0 ? ['same', 'cross'] : ['same'];
    expect(report.rows).toHaveLength(2 * placements.length);
    expect(report.baselines).toHaveLength(2 * 2 * placements.length);
    expect(progress).toHaveLength(4 * 2 * placements.length);
    for (const row of report.rows) {
      expect(row.mechanism).toBe('pipe');
      for (const measurement of [row.rxipc, row.c]) {
        expect(measurement.messagesPerSecond).toBeGreaterThan(0);
        expect(measurement.bytesPerSecond).toBeCloseTo(measurement.messagesPerSecond * row.size);
        expect(measurement.runs).toHaveLength(1);
      }
      for (const ratio of Object.values(row.ratios)) {
        expect(Number.isFinite(ratio)).toBe(true);
        expect(ratio).toBeGreaterThan(0);
      }
    }
    for (const baseline of report.baselines) {
      expect(baseline.measurement.messagesPerSecond).toBeGreaterThan(0);
    }
    expect(report.machine.node).toBe(process.version);

    const table = formatTable(report);
    expect(table).toMatch(/^pipe +64 B +same /m);
    expect(table).toContain('vs process.send');

    expect(processesOfRun(report.runId)).toEqual([]);
    expect(childrenOfThisProcess()).toEqual(before);
  }, 120_000);

  it('writes the report as JSON, with a latest.json beside it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rxipc-bench-test-'));
    try {
      const report = await runBench({
        quick: true,
        mechanisms: ['pipe'],
        sizes: [64],
        placements: ['same'],
        json: dir,
      });
      expect(report.files).toHaveLength(2);
      expect(path.basename(report.files[1]!)).toBe('latest.json');
      for (const file of report.files) {
        const written = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
        expect(written.runId).toBe(report.runId);
        expect(written.rows[0]!.ratios.c).toBe(report.rows[0]!.ratios.c);
        expect(written.machine.kernel).toBe(os.release());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('fails loudly when the consumer does not receive every message', async () => {
    // A mechanism that loses everything: the producer writes into one file, the consumer
    // reads another, empty one, and sees end of stream at once.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rxipc-bench-test-'));
    registerBenchCase({
      name: 'lossy',
      description: 'a producer and a consumer that are not connected',
      cProgram: 'pipe.c',
      open() {
        const sink = openSync(path.join(dir, 'sink'), 'w');
        const source = openSync(path.join(dir, 'source'), 'w+');
        let open = true;
        const release = (): void => {
          if (!open) return;
          open = false;
          closeSync(sink);
          closeSync(source);
        };
        return {
          producer: { uri: 'fd:3', fds: [sink], cArgs: ['3'] },
          consumer: { uri: 'fd:3', fds: [source], cArgs: ['3'] },
          afterSpawn: release,
          dispose: release,
        };
      },
    });
    const before = childrenOfThisProcess();
    try {
      const failure = await runBench({
        quick: true,
        mechanisms: ['lossy'],
        sizes: [64],
        placements: ['same'],
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(BenchError);
      expect(failure).toMatchObject({
        code: 'ERR_RXIPC_BENCH',
        message: expect.stringMatching(/rxipc lossy, 64 B, same.*received 0 messages/s),
      });
      expect(processesOfRun((failure as BenchError).runId!)).toEqual([]);
      expect(childrenOfThisProcess()).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
