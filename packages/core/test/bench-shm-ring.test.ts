import { describe, expect, it } from 'vitest';

import {
  formatShmRingReport,
  QUICK_SHM_RING_REPORT,
  runShmRingReport,
} from '../src/bench/index.js';
import { childrenOfThisProcess } from './support.js';

describe('the shared-memory ring report', () => {
  it('measures every contender and reports the ratios the targets are about', async () => {
    const before = childrenOfThisProcess();
    const progress: string[] = [];
    const report = await runShmRingReport({
      ...QUICK_SHM_RING_REPORT,
      roundTrips: 2000,
      placements: ['same'],
      onProgress: (line) => progress.push(line),
    });

    const cells = report.throughput.map((r) => `${r.contender} ${r.size}`);
    expect(cells).toEqual([
      'rxipc shm-ring 64',
      'C shm-ring 64',
      'net batched 64',
      'net batched prebuilt 64',
      'net 64',
      'rxipc shm-ring 1048576',
      'rxipc shm-ring zeroCopy 1048576',
      'C shm-ring 1048576',
    ]);
    for (const row of report.throughput) {
      expect(row.placement).toBe('same');
      expect(row.messagesPerSecond).toBeGreaterThan(0);
      expect(row.bytesPerSecond).toBeCloseTo(row.messagesPerSecond * row.size);
    }
    expect(report.latency.map((r) => r.contender)).toEqual([
      'rxipc shm-ring',
      'rxipc shm-ring spin 50 us',
      'C shm-ring',
    ]);
    for (const row of report.latency) expect(row.p99).toBeGreaterThanOrEqual(row.p50);
    const ratios = report.ratios['same']!;
    for (const value of Object.values(ratios)) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
    }
    expect(formatShmRingReport(report)).toMatch(/x batched net \(.*x prebuilt\)/);
    expect(progress.length).toBeGreaterThanOrEqual(8 + 3);
    expect(childrenOfThisProcess()).toEqual(before);
  }, 120_000);
});
