/**
 * Supervising one child process: start it, keep the tail of what it writes to stdout and
 * stderr, know how it ended, and stop it (SIGTERM, then SIGKILL after a grace period). Every
 * child started here is killed with SIGKILL when this process exits normally; when this
 * process is killed, the child's own parent-death signal (see `dieWithParent`) ends it.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

/** How a child ended: its exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options for {@link superviseChild}. */
export interface SuperviseOptions extends Pick<SpawnOptions, 'env' | 'cwd'> {
  /**
   * Descriptors (or stdio entries) the child inherits as fd 3, 4, ... (for pipes, what
   * `pipeLink().spawnOptions()` gives). Default: none.
   */
  readonly extraStdio?: SpawnOptions['stdio'];
  /**
   * What happens to the child's stdout and stderr, besides keeping their tail:
   * `'forward'` (default) copies both to this process's stderr (a stage's stdout must not mix
   * with the pipeline's own output), `'capture'` only keeps the tail.
   */
  readonly output?: 'forward' | 'capture';
  /** Bytes of output kept for error messages. Default: 4096. */
  readonly tailBytes?: number;
}

/** A running (or finished) child under supervision. */
export interface SupervisedChild {
  readonly process: ChildProcess;
  /** The pid, or `undefined` if the spawn failed. */
  readonly pid: number | undefined;
  /** Resolves when the child has exited (or failed to start: code `null`, signal `null`). */
  readonly exited: Promise<ExitStatus>;
  /** The exit status once exited, else `undefined`. */
  readonly status: ExitStatus | undefined;
  /** The last `tailBytes` of its stdout and stderr, interleaved as they came. */
  tail(): string;
  /**
   * Sends SIGTERM, then SIGKILL if the child is still there after `graceMs` (default 2000).
   * Resolves when it has exited. Idempotent.
   */
  terminate(graceMs?: number): Promise<ExitStatus>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Spawns `command` with `args` and supervises it (see {@link SupervisedChild}). stdin is
 * `/dev/null`; stdout and stderr are read by this process (see `output`).
 *
 * @example
 * ```ts
 * const child = superviseChild(process.execPath, ['worker.js'], { output: 'capture' });
 * const { code, signal } = await child.exited;
 * if (code !== 0) console.error(`worker ended with ${signal ?? code}: ${child.tail()}`);
 * ```
 * @throws {Error} never for a failed spawn: it shows as `exited` with code and signal `null`
 * and the reason in `tail()`.
 */
export function superviseChild(
  command: string,
  args: readonly string[],
  options: SuperviseOptions = {},
): SupervisedChild {
  const tailBytes = options.tailBytes ?? 4096;
  const extra = options.extraStdio === undefined ? [] : toArray(options.extraStdio);
  const child = spawn(command, args, {
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe', ...extra],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-tailBytes);
    if (options.output !== 'capture') process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const finish = (result: ExitStatus): void => {
      if (status !== undefined) return;
      status = result;
      live.delete(child);
      resolve(result);
    };
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      // An 'error' without a pid: the spawn itself failed and no 'exit' follows.
      if (child.pid === undefined) finish({ code: null, signal: null });
    });
    // 'close' waits for stdout and stderr to end too, so the tail is complete.
    child.once('close', (code, signal) => finish({ code, signal }));
  });
  if (child.pid !== undefined) {
    live.add(child);
    installExitHook();
  }

  let terminating: Promise<ExitStatus> | undefined;
  return {
    process: child,
    pid: child.pid,
    exited,
    get status() {
      return status;
    },
    tail: () => tail,
    terminate(graceMs = 2000) {
      if (terminating !== undefined) return terminating;
      if (status !== undefined) return (terminating = Promise.resolve(status));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      terminating = exited.finally(() => clearTimeout(timer));
      return terminating;
    },
  };
}

/** Pids of the supervised children still running in this process. */
export function supervisedPids(): number[] {
  return [...live].map((child) => child.pid!).filter((pid) => pid !== undefined);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: SIGKILL is the only stop that needs no waiting.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function toArray(
  stdio: NonNullable<SpawnOptions['stdio']>,
): Exclude<SpawnOptions['stdio'], string> & unknown[] {
  return typeof stdio === 'string' ? [stdio] : [...stdio];
}
