/**
 * What a stage module exports: a function from an input `Observable` to an output one (a
 * stream stage), or a function of one message (a per-message stage), wrapped by
 * {@link defineStage} so that the parent and the types know which it is.
 */
import type { Observable } from 'rxjs';

/** What a stage function learns about where it runs. */
export interface StageContext {
  /** The stage's name (its option `name`, else the module's file name without extension). */
  readonly stage: string;
  /** This replica's number, `0 .. replicas - 1`. */
  readonly replica: number;
  /** How many replicas the stage runs. */
  readonly replicas: number;
  /** How many times this replica was restarted before (0 for the first process). */
  readonly restarts: number;
  /** The stage's `config` option, as the codec carried it (JSON-like values). */
  readonly config: unknown;
}

/**
 * A stream stage: the whole input stream in, an output stream out. Any RxJS operator works,
 * including ones that keep state (`scan`, `reduce`, `bufferCount`). The input is an rxipc
 * source: it reads from the parent only while the output side has demand.
 */
export type StreamStageFunction<I, O> = (
  input: Observable<I>,
  context: StageContext,
) => Observable<O>;

/**
 * A per-message stage: called once for each input message. It returns the output: a value
 * (one output), a `Promise` (one output when it resolves), or an `Observable` (its values are
 * the outputs, zero or more). `undefined`, as a value or a resolved promise, means no output.
 */
export type MessageStageFunction<I, O> = (
  value: I,
  context: StageContext,
) => O | undefined | PromiseLike<O | undefined> | Observable<O>;

/** A stage module's default export, made by {@link defineStage}. */
export type StageDefinition<I = unknown, O = unknown> =
  StreamStageDefinition<I, O> | MessageStageDefinition<I, O>;

/** {@link defineStage} of a stream function. */
export interface StreamStageDefinition<I, O> {
  readonly [STAGE_DEFINITION]: true;
  readonly kind: 'stream';
  readonly run: StreamStageFunction<I, O>;
}

/** {@link defineStage} of a per-message function. */
export interface MessageStageDefinition<I, O> {
  readonly [STAGE_DEFINITION]: true;
  readonly kind: 'message';
  readonly run: MessageStageFunction<I, O>;
  /** Messages the function works on at once in one process. */
  readonly concurrency: number;
}

/** Options of a per-message stage, given to {@link defineStage} with `map`. */
export interface MessageStageOptions<I, O> {
  /** The function called for each message. */
  readonly map: MessageStageFunction<I, O>;
  /**
   * Messages one process works on at once (for asynchronous functions). Default: 1. Output
   * order across messages is restored by the parent when the stage is `ordered`.
   */
  readonly concurrency?: number;
}

/** Marks a stage definition (a registered symbol: the parent and the child may load two copies). */
export const STAGE_DEFINITION: unique symbol = Symbol.for('rxipc.stage-definition') as never;

/** The input type of a stage definition (or of a module whose default export is one). */
export type StageInput<D> = D extends { readonly default: infer M }
  ? StageInput<M>
  : D extends StageDefinition<infer I, infer _O>
    ? I
    : unknown;

/** The output type of a stage definition (or of a module whose default export is one). */
export type StageOutput<D> = D extends { readonly default: infer M }
  ? StageOutput<M>
  : D extends StageDefinition<infer _I, infer O>
    ? O
    : unknown;

/**
 * Defines a stage: the default export of a module that {@link stage} runs in a child process.
 *
 * - `defineStage((input$, context) => output$)` is a **stream stage**: it sees the whole input
 *   stream and may keep state. Its output completes the stage (after the input completes, as
 *   a rule). With replicas, each process sees a share of the messages.
 * - `defineStage({ map: (value, context) => output, concurrency })` is a **per-message
 *   stage**: the parent knows which outputs belong to which input, so it can restore input
 *   order across replicas (`ordered: true`) and redeliver the messages of a crashed process
 *   without duplicating their outputs.
 *
 * Errors: an error from the stream (or a thrown error, a rejected promise) ends the stage, and
 * the pipeline fails with a `StageError` (`ERR_RXIPC_STAGE_FAILED`) that carries its message.
 *
 * @example
 * ```ts
 * // stages/parse.ts
 * export default defineStage({ map: (line: string) => parseLine(line) ?? undefined });
 * // stages/count.ts
 * export default defineStage((hits: Observable<Hit>) =>
 *   hits.pipe(reduce((n) => n + 1, 0)),
 * );
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when given neither a function nor `{ map }`, or a
 * `concurrency` that is not a positive integer.
 */
export function defineStage<I, O>(run: StreamStageFunction<I, O>): StreamStageDefinition<I, O>;
export function defineStage<I, O>(options: MessageStageOptions<I, O>): MessageStageDefinition<I, O>;
export function defineStage<I, O>(
  definition: StreamStageFunction<I, O> | MessageStageOptions<I, O>,
): StageDefinition<I, O> {
  if (typeof definition === 'function') {
    return { [STAGE_DEFINITION]: true, kind: 'stream', run: definition };
  }
  if (
    typeof definition !== 'object' ||
    definition === null ||
    typeof definition.map !== 'function'
  ) {
    throw Object.assign(
      new TypeError('defineStage takes a function of the input stream, or { map: fn }'),
      { code: 'ERR_INVALID_ARG_TYPE' },
    );
  }
  const concurrency = definition.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw Object.assign(
      new TypeError(
        `defineStage: concurrency must be a positive integer, got ${String(concurrency)}`,
      ),
      { code: 'ERR_INVALID_ARG_TYPE' },
    );
  }
  return { [STAGE_DEFINITION]: true, kind: 'message', run: definition.map, concurrency };
}

/**
 * True when `value` came from {@link defineStage} (in this copy of rxipc or another one).
 *
 * @example
 * ```ts
 * const module = await import(url);
 * if (!isStageDefinition(module.default)) throw new TypeError('not a stage module');
 * ```
 */
export function isStageDefinition(value: unknown): value is StageDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[STAGE_DEFINITION] === true
  );
}
