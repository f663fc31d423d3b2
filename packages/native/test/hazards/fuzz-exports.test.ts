import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

const RANDOM_CALLS_PER_EXPORT = 3000;

interface FuzzReport {
  readonly exports: number;
  readonly calls: number;
  readonly threw: number;
  readonly uncaught: number;
  readonly waiters: number;
}

describe('fuzzing every export', () => {
  it('survives hostile arguments to every function the addon exports', async () => {
    const addon = createRequire(import.meta.url)('../../build/Release/rxipc.node') as Record<
      string,
      unknown
    >;
    const functions = Object.keys(addon).filter((name) => typeof addon[name] === 'function');

    const result = await runChild(fixture('fuzz-exports.mjs'), {
      args: [String(RANDOM_CALLS_PER_EXPORT)],
      timeoutMs: 120_000,
    });

    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false });
    const report = lastJson<FuzzReport>(result);
    expect(report.exports).toBe(functions.length);
    // Each export gets its random calls plus hundreds of systematic ones.
    expect(report.calls).toBeGreaterThan(functions.length * (RANDOM_CALLS_PER_EXPORT + 500));
    // Most hostile calls are refused, and some valid ones succeed.
    expect(report.threw).toBeGreaterThan(report.calls / 2);
    expect(report.threw).toBeLessThan(report.calls);
    // Throwing callbacks surfaced as uncaught exceptions, and no thread was left behind.
    expect(report.uncaught).toBeGreaterThan(0);
    expect(report.waiters).toBe(0);
  });
});
