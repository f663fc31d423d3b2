import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

interface WorkerReport {
  readonly mode: string;
  readonly results: ReadonlyArray<{
    readonly code: number;
    readonly ready: { readonly echoed: number; readonly waiters: number; readonly handles: number };
  }>;
  readonly echoed: number;
  readonly mainWaiters: number;
}

// Each scenario runs in its own process, so a crash in teardown shows as a signal there
// instead of taking the test runner down.
describe('the addon in worker threads', () => {
  for (const [mode, workers, exitCode, waiters] of [
    ['terminate', 3, 1, 2],
    ['exit', 3, 0, 2],
    ['natural', 3, 0, 1],
    ['busy', 4, 1, 5],
  ] as const) {
    it(`loads, works, and tears down cleanly (${mode})`, async () => {
      const result = await runChild(fixture('worker.mjs'), { args: [mode], timeoutMs: 20_000 });
      expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });

      const report = lastJson<WorkerReport>(result);
      expect(report.results).toHaveLength(workers);
      for (const { code, ready } of report.results) {
        expect(code).toBe(exitCode);
        expect(ready.echoed).toBe(2);
        expect(ready.waiters).toBe(waiters);
      }
      // Workers have their own environments: the main thread has no waiter threads of theirs.
      expect(report.mainWaiters).toBe(0);
      expect(report.echoed).toBe(2);
    });
  }
});
