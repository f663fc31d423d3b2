import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

interface Counts {
  readonly fds: number;
  readonly waiters: number;
}

describe('finalizers', () => {
  it('close descriptors, stopped watchers and idle waiters that were dropped', async () => {
    const result = await runChild(fixture('gc-finalizers.mjs'), { execArgv: ['--expose-gc'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    const { before, during, after, fired } = lastJson<{
      before: Counts;
      during: Counts;
      after: Counts;
      fired: number;
    }>(result);

    // 200 pipes, 50 watched pipe read ends, 10 eventfds with a wake eventfd each.
    expect(during.fds - before.fds).toBe(2 * 200 + 2 * 50 + 2 * 10);
    expect(during.waiters - before.waiters).toBe(10);
    expect(after).toEqual(before);
    expect(fired).toBeGreaterThan(0);
  });
});

describe('environment teardown', () => {
  for (const [mode, code, waiters] of [
    ['natural', 0, 1],
    ['exit', 0, 2],
    ['throw', 1, 2],
  ] as const) {
    it(`closes every open handle when the process ends (${mode})`, async () => {
      const result = await runChild(fixture('teardown.mjs'), { args: [mode] });
      expect(result).toMatchObject({ code, signal: null, timedOut: false });
      if (mode === 'throw') expect(result.stderr).toContain('Error: deliberate');
      else expect(result.stderr).toBe('');
      expect(lastJson<{ mode: string; waiters: number }>(result)).toMatchObject({ mode, waiters });
    });
  }
});
