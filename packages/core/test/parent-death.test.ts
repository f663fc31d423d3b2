import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { native } from '@rxipc/native';
import { describe, expect, it } from 'vitest';

import { processesWithEnv, waitFor } from './support.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = ['--import', 'tsx', '--conditions=@rxipc/source'];

/** Runs `rxipc <args>` from source with `env`; resolves with its exit code and output. */
function rxipc(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...TSX, CLI, ...args],
      { env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

// Processes start slowly on a loaded machine (tsx compiles each one's sources).
describe('a parent killed with SIGKILL', { timeout: 60_000 }, () => {
  it('leaves no child process, and rxipc clean then leaves no named object', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-parent-death-'));
    const mark = randomUUID();
    const env = {
      ...process.env,
      RXIPC_REGISTRY_DIR: path.join(dir, 'registry'),
      RXIPC_TEST_MARK: mark,
    };
    const fifo = path.join(dir, 'doomed.fifo');
    let parent: ChildProcess | undefined;
    let queue: string | undefined;
    try {
      parent = spawn(
        process.execPath,
        [...TSX, fileURLToPath(new URL('./fixtures/doomed-parent.ts', import.meta.url)), fifo],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const report = await new Promise<{ fifo: string; queue: string; pids: number[] }>(
        (resolve, reject) => {
          createInterface({ input: parent!.stdout! }).once('line', (line) =>
            resolve(JSON.parse(line)),
          );
          let stderr = '';
          parent!.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          parent!.once('exit', (code, signal) =>
            reject(new Error(`the parent ended with ${signal ?? code}: ${stderr}`)),
          );
          setTimeout(() => reject(new Error(`no report from the parent: ${stderr}`)), 20_000);
        },
      );
      queue = report.queue;
      const family = processesWithEnv('RXIPC_TEST_MARK', mark);
      expect(family).toEqual(expect.arrayContaining([parent.pid!, ...report.pids]));

      parent.kill('SIGKILL');
      // The kernel sends each stage process its parent-death signal: none survives.
      await waitFor(
        () => processesWithEnv('RXIPC_TEST_MARK', mark).length === 0,
        5000,
        'no survivor',
      );

      const listed = JSON.parse((await rxipc(['ls', '--json'], env)).stdout) as {
        name: string;
        state: string;
        exists: boolean;
      }[];
      expect(listed).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: fifo, state: 'orphaned', exists: true }),
          expect.objectContaining({ name: queue, state: 'orphaned', exists: true }),
        ]),
      );
      const cleaned = await rxipc(['clean'], env);
      expect(cleaned).toMatchObject({ code: 0 });
      expect(cleaned.stdout).toContain(`removed fifo ${fifo}`);
      expect(cleaned.stdout).toContain(`removed sysv-mq ${queue}`);
      expect(existsSync(fifo)).toBe(false);
      expect(() => native.msgOpenId(Number(queue!.slice(3)))).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
      expect(JSON.parse((await rxipc(['ls', '--json'], env)).stdout)).toEqual([]);
    } finally {
      for (const pid of processesWithEnv('RXIPC_TEST_MARK', mark)) process.kill(pid, 'SIGKILL');
      if (queue !== undefined) {
        try {
          const handle = native.msgOpenId(Number(queue.slice(3)));
          native.msgRmid(handle);
          native.msgClose(handle);
        } catch {
          // removed by rxipc clean, as expected
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
