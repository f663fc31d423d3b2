/**
 * The frames a pipeline's parent and a stage process exchange over their channel, encoded with
 * the stage's codec (v8 or json); the frames of one turn of the event loop travel together as
 * `[BATCH, frames]` (see `frame-writer.ts`). Arrays, not objects: smaller and faster to encode.
 *
 * parent → child: `[DATA, seq, value]`; end of input is the channel's end of stream.
 * child → parent: `[HELLO, hello]` first; then `[OUT, seq, value]` (an output of input `seq`;
 * `seq` is -1 in a stream stage), `[ACK, seq]` (input `seq` is finished: every output of a
 * per-message stage was sent; in a stream stage, the function took it), `[LAST, seq, value]`
 * (`OUT` and `ACK` in one: the common one-in, one-out case), and `[FAIL, error]` when the stage
 * function failed; `[END]` when the output completed. Then the channel's end of stream, and
 * exit status 0: a process that ends without `END` (even with status 0) crashed.
 */

export const DATA = 0;
export const OUT = 1;
export const ACK = 2;
export const FAIL = 3;
export const HELLO = 4;
export const LAST = 5;
export const END = 6;
export const BATCH = 7;

/** What a stage process says first. */
export interface Hello {
  readonly pid: number;
  readonly kind: 'stream' | 'message';
}

/** A stage function's error, as it crosses the process boundary. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export type ToChild = readonly [typeof DATA, number, unknown];

export type FromChild =
  | readonly [typeof OUT, number, unknown]
  | readonly [typeof ACK, number]
  | readonly [typeof FAIL, ErrorInfo]
  | readonly [typeof HELLO, Hello]
  | readonly [typeof LAST, number, unknown]
  | readonly [typeof END];

/** What the parent tells a stage process, in the environment variable {@link STAGE_ENV}. */
export interface StageLaunch {
  /** The module to import (a URL or a bare specifier). */
  readonly module: string;
  readonly stage: string;
  readonly replica: number;
  readonly replicas: number;
  readonly restarts: number;
  /** The codec name (`'v8'`, `'json'`). */
  readonly codec: string;
  /** The channel to the parent (`fd:3,4` for pipes). */
  readonly uri: string;
  /** The parent's pid: the child exits at once if its parent is another process. */
  readonly parentPid: number;
  /** Messages the child may have waiting for the kernel before it stops reading input. */
  readonly highWaterMark: number;
  /** The most messages the parent has in flight to this child (the stage's `window`). */
  readonly window: number;
  /** The largest batch of frames, once encoded, in bytes. */
  readonly batchBytes: number;
  readonly config: unknown;
}

/** The environment variable that carries a {@link StageLaunch} as JSON. */
export const STAGE_ENV = 'RXIPC_STAGE';

/** An error as an {@link ErrorInfo}. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}
