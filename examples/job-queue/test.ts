import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv } from '../../packages/core/test/support.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('example: priority job queue', () => {
  it('takes the most urgent jobs a C producer queued first, and does every job once', async () => {
    const mark = randomUUID();
    try {
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number;
      }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', '--conditions=@rxipc/source', MAIN, '--jobs', '60', '--json'],
          { env: { ...process.env, RXIPC_EXAMPLE_MARK: mark }, timeout: 60_000 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error === null ? 0 : Number(error.code) }),
        ),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const { order } = JSON.parse(stdout) as { order: [id: number, priority: number][] };
      expect(order.map(([id]) => id).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 60 }, (_, i) => i),
      );
      for (const [id, priority] of order) expect(priority).toBe((id * 7) % 10);
      // The queue was full (jobs 0..9, priorities 0..9) before the workers started: the
      // three most urgent come first. Later jobs join as room frees, so only these are fixed.
      expect(order.slice(0, 3)).toEqual([
        [7, 9],
        [4, 8],
        [1, 7],
      ]);
      expect(processesWithEnv('RXIPC_EXAMPLE_MARK', mark)).toEqual([]);
    } finally {
      for (const pid of processesWithEnv('RXIPC_EXAMPLE_MARK', mark)) process.kill(pid, 'SIGKILL');
    }
  }, 90_000);
});
