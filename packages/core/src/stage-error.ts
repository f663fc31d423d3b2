/**
 * The error of a stage process: which stage, which replica and pid, how it ended, and the
 * tail of what it wrote to stderr.
 */
import type { ExitStatus } from './supervisor.js';

/** Why a stage failed. */
export type StageErrorCode =
  /** The process died (a signal, a non-zero exit, a lost channel) and no restart was left. */
  | 'ERR_RXIPC_STAGE_CRASHED'
  /** The stage function failed (its stream errored, it threw, or its module did not load). */
  | 'ERR_RXIPC_STAGE_FAILED'
  /** The stage broke the protocol or its options do not fit it (for example `ordered`). */
  | 'ERR_RXIPC_STAGE_INVALID';

/** What a {@link StageError} is made of. */
export interface StageErrorDetails {
  readonly code: StageErrorCode;
  readonly stage: string;
  readonly replica: number;
  readonly replicas: number;
  readonly pid: number | undefined;
  /** How the process ended, if it had (a function failure is reported before the exit). */
  readonly exit?: ExitStatus | undefined;
  /** What went wrong, in a few words (`'was killed by SIGKILL'`, or the function's message). */
  readonly reason: string;
  /** The end of the process's stdout and stderr. */
  readonly stderr: string;
  /** Restarts used by the stage, and allowed. */
  readonly restarts?: { readonly used: number; readonly max: number };
  readonly cause?: unknown;
}

/**
 * A stage of a pipeline failed. The first line of the message names the stage, the replica,
 * the pid and the reason (exit code or signal, or the stage function's error); the lines
 * after it are the tail of the process's stderr.
 *
 * @example
 * ```ts
 * pipeline(source$, stage(url)).subscribe({
 *   error: (e) => { if (e instanceof StageError) console.error(e.stage, e.pid, e.signal); },
 * });
 * ```
 */
export class StageError extends Error {
  override readonly name = 'StageError';
  readonly code: StageErrorCode;
  readonly stage: string;
  readonly replica: number;
  readonly pid: number | undefined;
  /** The exit code, or `null` (killed by a signal, or not exited yet). */
  readonly exitCode: number | null;
  /** The signal that killed the process, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** The end of the process's stdout and stderr. */
  readonly stderr: string;

  constructor(details: StageErrorDetails) {
    const where =
      details.replicas > 1
        ? `stage ${details.stage} (replica ${details.replica + 1} of ${details.replicas}, pid ${details.pid ?? 'none'})`
        : `stage ${details.stage} (pid ${details.pid ?? 'none'})`;
    const restarts =
      details.restarts !== undefined && details.restarts.max > 0
        ? ` after ${details.restarts.used} of ${details.restarts.max} restarts`
        : '';
    const tail = details.stderr.trimEnd();
    super(
      `${where} ${details.reason}${restarts}${tail === '' ? '' : `; stderr:\n${indent(tail)}`}`,
      details.cause !== undefined ? { cause: details.cause } : {},
    );
    this.code = details.code;
    this.stage = details.stage;
    this.replica = details.replica;
    this.pid = details.pid;
    this.exitCode = details.exit?.code ?? null;
    this.signal = details.exit?.signal ?? null;
    this.stderr = details.stderr;
  }
}

/** `'exited with code 3'`, `'was killed by SIGKILL'`, `'did not start'`. */
export function describeExit(exit: ExitStatus): string {
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  if (exit.code !== null) return `exited with code ${exit.code}`;
  return 'did not start';
}

function indent(text: string): string {
  const lines = text.split('\n');
  return lines
    .slice(-20)
    .map((line) => `  | ${line}`)
    .join('\n');
}
