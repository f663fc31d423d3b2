import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv } from '../../packages/core/test/support.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('example: cross-process concurrency limit', () => {
  it('never lets more jobs hold a license at once than the semaphore allows, across processes', async () => {
    const mark = randomUUID();
    let pid: number | undefined;
    try {
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number;
      }>((resolve) => {
        pid = execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            '--conditions=@rxipc/source',
            MAIN,
            '--jobs',
            '48',
            '--permits',
            '2',
            '--json',
          ],
          { env: { ...process.env, RXIPC_EXAMPLE_MARK: mark }, timeout: 60_000 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error === null ? 0 : Number(error.code) }),
        ).pid;
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as {
        jobs: number;
        maxConcurrent: number;
        permits: number;
      };
      expect(summary.jobs).toBe(48);
      expect(summary.maxConcurrent).toBeGreaterThanOrEqual(1);
      expect(summary.maxConcurrent).toBeLessThanOrEqual(2);
      // The example removed its semaphore (other runs of it may have theirs meanwhile).
      expect(existsSync(`/dev/shm/sem.rxipc-licenses-${pid}`)).toBe(false);
      expect(processesWithEnv('RXIPC_EXAMPLE_MARK', mark)).toEqual([]);
    } finally {
      for (const left of processesWithEnv('RXIPC_EXAMPLE_MARK', mark))
        process.kill(left, 'SIGKILL');
    }
  }, 90_000);
});
