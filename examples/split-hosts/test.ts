import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv, waitFor } from '../../packages/core/test/support.js';

const TSX = ['--import', 'tsx', '--conditions=@rxipc/source'];
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [...TSX, script('main.ts'), ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error === null ? 0 : Number(error.code) }),
    ),
  );
}

/** A process's command line, for messages. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(gone)';
  }
}

describe('example: a pipeline split across hosts over TCP', () => {
  it('gives the same answer on one host and split across two', async () => {
    const mark = randomUUID();
    const env = { ...process.env, RXIPC_EXAMPLE_MARK: mark };
    let hostB: ChildProcess | undefined;
    try {
      hostB = spawn(process.execPath, [...TSX, script('host-b.ts')], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const uri = await new Promise<string>((resolve, reject) => {
        createInterface({ input: hostB!.stdout! }).once('line', (line) =>
          resolve(line.split(' ')[1]!),
        );
        hostB!.once('exit', (code) => reject(new Error(`host B ended with ${code}`)));
      });
      expect(uri).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const [local, split] = await Promise.all([
        run(['--count', '3000', '--json'], env),
        run(['--count', '3000', '--json', '--remote', uri], env),
      ]);
      for (const result of [local, split]) {
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      }
      const here = JSON.parse(local.stdout) as { primes: number; last: number[] };
      const there = JSON.parse(split.stdout) as { primes: number; last: number[]; where: string };
      expect(there).toEqual({ ...here, where: uri });
      expect(here.primes).toBeGreaterThan(100);
      // Host B's stage processes for that connection are gone; only host B itself is left.
      const survivors = () =>
        processesWithEnv('RXIPC_EXAMPLE_MARK', mark)
          .filter((pid) => pid !== hostB!.pid)
          .map((pid) => `${pid}: ${commandLine(pid)}`);
      await waitFor(
        () => survivors().length === 0,
        // Shutdown allows a 2 s SIGTERM grace, and under a full parallel test run children
        // start and stop slowly: a bound on correctness, not speed.
        20_000,
        "host B's stage processes to end",
      ).catch((error: Error) => {
        throw new Error(`${error.message}; still running: ${survivors().join('; ')}`);
      });
    } finally {
      hostB?.kill('SIGKILL');
      await waitFor(
        () => processesWithEnv('RXIPC_EXAMPLE_MARK', mark).length === 0,
        20_000,
        'no survivor',
      );
    }
  }, 90_000);
});
