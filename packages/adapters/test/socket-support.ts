/**
 * Helpers for the FIFO, Unix socket and TCP tests: private temporary directories (named
 * `rxipc-...` under os.tmpdir(), removed after the file's tests), child processes that are
 * killed after each test whatever happened, C peers compiled on demand, and small waits.
 */
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dirs: string[] = [];
const children = new Set<ChildProcess>();

/** A new private directory `rxipc-<label>-XXXXXX` in the system's temporary directory. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `rxipc-${label}-`));
  dirs.push(dir);
  return dir;
}

/** Removes every directory made by {@link tempDir} (for `afterAll`). */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** What is in `dir` now, sorted (for leak checks). */
export function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * `spawn`, in a process group of its own, tracked so that {@link killChildren} kills the
 * whole group: `sh -c 'printf ... | socat ...'` leaves socat running if only the shell dies.
 */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    detached: true,
  });
  children.add(child);
  // The group outlives its leader (socat's forked children): it is killed even after exit.
  return child;
}

/** Kills the process group of every child spawned by {@link spawnTracked} (for `afterEach`). */
export function killChildren(): void {
  for (const child of children) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the whole group is gone already
    }
  }
  children.clear();
}

/** Resolves with a child's exit, and its stdout and stderr. */
export function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Waits until `condition()` holds (polling every few milliseconds), or fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const built = new Map<string, string>();

/** Compiles `fixtures/<name>.c` with `cc -O2` (once per test process) and returns the binary. */
export function compileC(name: string): string {
  const existing = built.get(name);
  if (existing !== undefined) return existing;
  const out = path.join(tempDir(`cc-${name}`), name);
  mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', out, path.join(FIXTURES, `${name}.c`)]);
  built.set(name, out);
  return out;
}

/** Inside the package, so scripts run by a child resolve rxjs through its node_modules. */
export const SCRIPT_DIR = new URL('../node_modules/.cache/', import.meta.url).pathname;
