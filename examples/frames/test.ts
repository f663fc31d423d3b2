import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv } from '../../packages/core/test/support.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('example: frames', () => {
  it('sends 1 MiB frames both ways through shared-memory rings to replicas, in order and intact', async () => {
    const mark = randomUUID();
    let pid: number | undefined;
    // This run's rings only: other runs of the example may have theirs meanwhile.
    const rings = () => readdirSync('/dev/shm').filter((name) => name.startsWith(`rxipc-${pid}-`));
    try {
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number;
      }>((resolve) => {
        pid = execFile(
          process.execPath,
          ['--import', 'tsx', '--conditions=@rxipc/source', MAIN, '--frames', '64', '--json'],
          { env: { ...process.env, RXIPC_EXAMPLE_MARK: mark }, timeout: 60_000 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error === null ? 0 : Number(error.code) }),
        ).pid;
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const result = JSON.parse(stdout) as {
        frames: number;
        inOrder: boolean;
        byReplica: number[];
      };
      expect(result).toMatchObject({ frames: 64, inOrder: true });
      expect(result.byReplica).toHaveLength(2);
      expect(result.byReplica.every((n) => n > 0)).toBe(true);
      // Each ring's name was removed as soon as both sides had joined it.
      expect(rings()).toEqual([]);
      expect(processesWithEnv('RXIPC_EXAMPLE_MARK', mark)).toEqual([]);
    } finally {
      for (const left of processesWithEnv('RXIPC_EXAMPLE_MARK', mark))
        process.kill(left, 'SIGKILL');
    }
  }, 90_000);
});
