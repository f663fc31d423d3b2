import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { registerNamedObject } from '@rxipc/adapters';
import { native } from '@rxipc/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cleanOrphans, namedObjects } from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-janitor-test-'));
const registry = path.join(dir, 'registry');
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = ['--import', 'tsx', '--conditions=@rxipc/source'];

beforeAll(() => {
  process.env['RXIPC_REGISTRY_DIR'] = registry;
});
afterAll(() => {
  delete process.env['RXIPC_REGISTRY_DIR'];
  rmSync(dir, { recursive: true, force: true });
});

function rxipc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...TSX, CLI, ...args],
      { env: { ...process.env, RXIPC_REGISTRY_DIR: registry }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

/** A process that records an object of `kind` named `name` and is then killed by SIGKILL. */
function orphan(kind: string, name: string): void {
  const script = `
    const { registerNamedObject } = await import('@rxipc/adapters');
    registerNamedObject({ kind: ${JSON.stringify(kind)}, name: ${JSON.stringify(name)}, mode: 0o600 }, () => {});
    process.kill(process.pid, 'SIGKILL');
  `;
  const result = spawnSync(process.execPath, [...TSX, '--input-type=module', '-e', script], {
    env: { ...process.env, RXIPC_REGISTRY_DIR: registry },
    timeout: 20_000,
  });
  expect(result.signal).toBe('SIGKILL');
}

// Processes start slowly on a loaded machine (tsx compiles each one's sources).
describe('the janitor and rxipc ls / clean', { timeout: 60_000 }, () => {
  it("never removes a live process's object, and lists it as alive", async () => {
    const fifo = path.join(dir, 'live.fifo');
    native.mkfifo(fifo, 0o600);
    const release = registerNamedObject({ kind: 'fifo', name: fifo, mode: 0o600 }, () =>
      rmSync(fifo),
    );
    try {
      expect(cleanOrphans()).toMatchObject({ removed: [], alive: 1 });
      expect(existsSync(fifo)).toBe(true);
      expect(namedObjects()).toEqual([
        expect.objectContaining({ kind: 'fifo', name: fifo, state: 'alive', exists: true }),
      ]);
      const table = await rxipc(['ls']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^KIND +NAME +MODE +OWNER +STATE +EXISTS +CREATED$/m);
      expect(table.stdout).toMatch(
        new RegExp(`^fifo +${fifo} +0600 +${process.pid} +alive +yes +\\d{4}-`, 'm'),
      );
    } finally {
      release(true);
    }
  });

  it('removes an orphan and forgets one whose object is gone, in one clean', async () => {
    const fifo = path.join(dir, 'orphan.fifo');
    native.mkfifo(fifo, 0o600);
    orphan('fifo', fifo);
    orphan('fifo', path.join(dir, 'never-made.fifo'));
    const listed = JSON.parse((await rxipc(['ls', '--json', '--orphaned'])).stdout) as unknown[];
    expect(listed).toHaveLength(2);
    expect((await rxipc(['clean', '--dry-run'])).stdout).toContain(`would remove fifo ${fifo}`);
    expect(existsSync(fifo)).toBe(true);
    const cleaned = await rxipc(['clean']);
    expect(cleaned).toMatchObject({ code: 0 });
    expect(cleaned.stdout).toContain(`removed fifo ${fifo}`);
    expect(cleaned.stdout).toContain('it was gone already');
    expect(cleaned.stdout).toMatch(/^cleaned 2 orphaned object\(s\); 0 belong to live processes$/m);
    expect(existsSync(fifo)).toBe(false);
    expect(namedObjects()).toEqual([]);
  });

  it('keeps an orphan of a kind nobody can remove, and says so with a non-zero exit', async () => {
    orphan('mystery', 'thing-1');
    try {
      const cleaned = await rxipc(['clean']);
      expect(cleaned.code).toBe(1);
      expect(cleaned.stdout).toContain('kept mystery thing-1');
      expect(cleaned.stdout).toContain('no remover for the kind mystery');
      expect(namedObjects()).toEqual([
        expect.objectContaining({ kind: 'mystery', exists: undefined }),
      ]);
    } finally {
      // No remover knows the kind: drop its record by hand.
      rmSync(registry, { recursive: true, force: true });
    }
  });

  it('explains itself with --help, and a bad option is one line and exit 1', async () => {
    expect((await rxipc(['ls', '--help'])).stdout).toMatch(/^usage: rxipc ls \[--json\]/);
    expect((await rxipc(['clean', '--help'])).stdout).toMatch(/^usage: rxipc clean \[--dry-run\]/);
    const bad = await rxipc(['clean', '--everything']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^rxipc: clean: Unknown option '--everything'/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const help = await rxipc(['--help']);
    expect(help.stdout).toMatch(/^ {2}ls +list the named objects/m);
    expect(help.stdout).toMatch(/^ {2}clean +remove the named objects/m);
  });
});
