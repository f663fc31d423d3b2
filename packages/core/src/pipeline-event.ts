/**
 * What a pipeline reports about its processes, on `pipeline(...).events`.
 */
import type { StageError } from './stage-error.js';
import type { ExitStatus } from './supervisor.js';

interface EventBase {
  /** The stage's name. */
  readonly stage: string;
  /** The stage's position in the pipeline, from 0. */
  readonly stageIndex: number;
  /** The replica, from 0. */
  readonly replica: number;
  readonly pid: number | undefined;
}

/** A stage process started (`restarts` > 0: it replaces a crashed one). */
export interface SpawnEvent extends EventBase {
  readonly type: 'spawn';
  readonly restarts: number;
}

/** A stage process ended (cleanly, crashed, or stopped by the pipeline). */
export interface ExitEvent extends EventBase {
  readonly type: 'exit';
  readonly status: ExitStatus;
}

/**
 * A stage process crashed. `restarting`: a replacement starts after `delayMs`; else the
 * pipeline fails with `error`. `redelivered`: messages it had not acknowledged, which go to
 * the other replicas or to the replacement.
 */
export interface CrashEvent extends EventBase {
  readonly type: 'crash';
  readonly error: StageError;
  readonly restarting: boolean;
  readonly delayMs: number;
  readonly redelivered: number;
}

/** Everything a pipeline reports. */
export type PipelineEvent = SpawnEvent | ExitEvent | CrashEvent;
