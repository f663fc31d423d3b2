/**
 * Runs a fixture in a child Node process, for hazards that could crash or hang the process
 * (teardown, exit during a wait, fuzzing): the test asserts on how the child ended.
 *
 * Every child is killed (SIGKILL) when its deadline passes, and `killChildren()` (call it in
 * `afterEach`) kills whatever is still running when a test failed early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How a child ended. `timedOut` means we killed it at the deadline. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

export interface ChildOptions {
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** Node options before the script (`--expose-gc`). */
  readonly execArgv?: readonly string[];
  /** Kill the child (SIGKILL) after this long. Default: 10 s. */
  readonly timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/** Absolute path of a fixture in `test/hazards/fixtures/`. */
export function fixture(name: string): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'hazards', 'fixtures', name);
}

/** Runs `script` with the current Node and resolves when it has exited (or was killed). */
export function runChild(script: string, options: ChildOptions = {}): Promise<ChildResult> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.execArgv ?? []), script, ...(options.args ?? [])],
    {
      // stdin is /dev/null: fixtures may adopt descriptor 0.
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);

  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 10_000);

  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut, elapsedMs: performance.now() - started });
    });
  });
}

/** Kills every child still running (for `afterEach`). */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** The last line of a child's stdout, parsed as JSON (fixtures report that way). */
export function lastJson<T>(result: ChildResult): T {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}
