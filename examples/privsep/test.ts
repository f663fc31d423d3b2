import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv } from '../../packages/core/test/support.js';
import type { Counted } from './stages/count.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('example: privilege separation', () => {
  it('lets unprivileged workers read only what the broker opens for them, by descriptor', async () => {
    const mark = randomUUID();
    const root = process.getuid!() === 0;
    try {
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number;
      }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', '--conditions=@rxipc/source', MAIN, '--json'],
          { env: { ...process.env, RXIPC_EXAMPLE_MARK: mark }, timeout: 60_000 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error === null ? 0 : Number(error.code) }),
        ),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const results = JSON.parse(stdout) as Counted[];
      expect(results.map((r) => [r.granted, r.reason ?? `${r.lines} ${r.words}`])).toEqual([
        [true, '3 9'],
        [true, '1 3'],
        [false, 'outside the allowed directory'],
        [false, 'outside the allowed directory'],
        [false, 'no such file'],
      ]);
      for (const r of results) {
        expect(r.uid).toBe(root ? 65534 : process.getuid!());
        // As nobody, the workers cannot open the files themselves.
        if (root) expect(r.direct).toBe('EACCES');
        // Dropping privileges cleared the parent-death signal; the worker armed it again.
        expect(r.pdeathsig).toBe(9);
      }
      expect(processesWithEnv('RXIPC_EXAMPLE_MARK', mark)).toEqual([]);
    } finally {
      for (const pid of processesWithEnv('RXIPC_EXAMPLE_MARK', mark)) process.kill(pid, 'SIGKILL');
    }
  }, 90_000);
});
