import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

describe('closing futex waiters blocked in the kernel', () => {
  it('returns in milliseconds, joins the threads, and lets the process end', async () => {
    const result = await runChild(fixture('shm-futex-close.mjs'));
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    const report = lastJson<{
      closeMs: number;
      unmapMs: number;
      threadsAfterClose: number;
      threads: number;
      reports: number;
      bClosed: boolean;
    }>(result);
    expect(report.closeMs).toBeLessThan(50);
    expect(report.unmapMs).toBeLessThan(50);
    expect(report).toMatchObject({ threadsAfterClose: 2, threads: 0, reports: 0, bClosed: true });
  });
});
