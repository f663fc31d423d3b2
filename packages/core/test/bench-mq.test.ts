import { describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { formatTable, runBench } from '../src/bench/index.js';

/**
 * This process's POSIX bench queues that still exist (probed by name: /dev/mqueue is not
 * mounted). System V leftovers are caught by the test run's ipcs check.
 */
function leftovers(): string[] {
  const found: string[] = [];
  for (let serial = 1; serial <= 20; serial++) {
    const name = `/rxipc-bench-${process.pid}-${serial}`;
    try {
      native.fdClose(native.mqOpen(name, { read: true }));
      found.push(name);
    } catch {
      // gone, as it should be
    }
  }
  return found;
}

describe('runBench on message queues', () => {
  it('measures POSIX and System V queues against their C programs and removes every queue', async () => {
    const report = await runBench({
      quick: true,
      mechanisms: ['posix-mq', 'sysv-mq'],
      sizes: [64, 64 * 1024], // 64 KiB exceeds both queues' limits: skipped, not failed
      placements: ['same'],
    });
    expect(report.rows.map((row) => [row.mechanism, row.size])).toEqual([
      ['posix-mq', 64],
      ['sysv-mq', 64],
    ]);
    for (const row of report.rows) {
      expect(row.rxipc.messagesPerSecond).toBeGreaterThan(0);
      expect(row.c.messagesPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(row.ratios.c)).toBe(true);
    }
    expect(formatTable(report)).toMatch(/^posix-mq +64 B +same /m);
    expect(leftovers()).toEqual([]);
  }, 120_000);
});
