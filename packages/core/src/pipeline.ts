/**
 * `pipeline(source, ...stages)`: a shell's `a | b | c`, with each stage in its own processes.
 */
import { isObservable, Observable, type OperatorFunction, Subject, type Subscription } from 'rxjs';

import { pullSource } from './internal/valves.js';
import { runJanitorOnce } from './janitor.js';
import type { PipelineEvent } from './pipeline-event.js';
import { stagePool } from './pool.js';
import type { Stage } from './stage.js';

/** What a pipeline reads: an `Observable` (best an rxipc source), or a (async) iterable. */
export type PipelineSource<T> = Observable<T> | Iterable<T> | AsyncIterable<T>;

/**
 * A step of a pipeline: a {@link Stage} (child processes), or an operator that runs in this
 * process, such as `connect(uri)` (a stage served by another process or host).
 */
export type PipelineStep<A, B> = Stage<A, B> | OperatorFunction<A, B>;

/** The output of the last stage, plus the pipeline's events. */
export interface Pipeline<O> extends Observable<O> {
  /**
   * Processes starting, exiting and crashing, for every run (subscription) of this pipeline.
   * A hot stream that never completes: subscribe before the pipeline to see every event.
   */
  readonly events: Observable<PipelineEvent>;
}

/**
 * Connects `source` to the stages, each stage's output to the next one's input, and returns
 * the last stage's output. Subscribing starts every stage's processes; each subscription is
 * a separate run with its own processes.
 *
 * - **Backpressure** reaches from the consumer to the source through every process: a stage
 *   reads its input only while one of its replicas has room (`window`), a replica reads from
 *   the parent only while its output moves, and the parent reads a stage's output only while
 *   the next stage has room and the consumer has demand (through rxipc's valves: consume with
 *   `boundedMergeMap`, `writeAll` or `for await` to slow the whole pipeline). An iterable
 *   source is pulled only as fast as that; an `Observable` that ignores demand may get ahead
 *   by `window x replicas` messages, then the pipeline fails with `ERR_RXIPC_OVERFLOW`.
 * - **Replicas** share a stage's messages (the least busy one gets the next message). With
 *   `ordered` (the default for per-message stages) the outputs come in input order.
 * - **Completion** goes stage by stage: when the source completes, each replica's input ends,
 *   its function completes, and the stage completes once every replica has finished.
 * - **Errors**: a crash past the restart policy or a failing stage function errors the
 *   output with a `StageError` (stage, replica, pid, exit code or signal, stderr tail); the
 *   source's error passes through. Every process is then stopped.
 * - **Restarts**: a crashed replica is replaced by the stage's `restart` policy, and the
 *   messages it had not acknowledged are delivered again (at least once; a per-message
 *   stage's outputs for them are dropped, so each input's outputs arrive once).
 * - **Unsubscribing** stops every process: SIGTERM, then SIGKILL after `gracePeriodMs`.
 *   A process also dies with its parent, even one killed with SIGKILL (PR_SET_PDEATHSIG).
 *
 * On its first run in a process it also runs the janitor once (`cleanOrphans`: named
 * objects whose owner died are removed); `RXIPC_JANITOR=0` turns that off.
 *
 * @example
 * ```ts
 * const hits = pipeline(
 *   open('fd:0?framing=line&codec=utf8'),
 *   stage(new URL('./stages/parse.js', import.meta.url), { replicas: 2 }),
 *   stage(new URL('./stages/count.js', import.meta.url)),
 * );
 * hits.events.subscribe((e) => e.type === 'crash' && console.error(e.error.message));
 * hits.subscribe((summary) => console.log(summary));
 * ```
 * A step may also be an operator, which runs in this process: `connect(uri)` puts a stage
 * served by another process (or another host, over TCP) into the pipeline.
 *
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE`, at call time, for a source that is not an
 * Observable or iterable, or a step that is neither a `stage()` nor an operator.
 */
export function pipeline<A, B>(source: PipelineSource<A>, s1: PipelineStep<A, B>): Pipeline<B>;
export function pipeline<A, B, C>(
  source: PipelineSource<A>,
  s1: PipelineStep<A, B>,
  s2: PipelineStep<B, C>,
): Pipeline<C>;
export function pipeline<A, B, C, D>(
  source: PipelineSource<A>,
  s1: PipelineStep<A, B>,
  s2: PipelineStep<B, C>,
  s3: PipelineStep<C, D>,
): Pipeline<D>;
export function pipeline<A, B, C, D, E>(
  source: PipelineSource<A>,
  s1: PipelineStep<A, B>,
  s2: PipelineStep<B, C>,
  s3: PipelineStep<C, D>,
  s4: PipelineStep<D, E>,
): Pipeline<E>;
export function pipeline<A, B, C, D, E, F>(
  source: PipelineSource<A>,
  s1: PipelineStep<A, B>,
  s2: PipelineStep<B, C>,
  s3: PipelineStep<C, D>,
  s4: PipelineStep<D, E>,
  s5: PipelineStep<E, F>,
): Pipeline<F>;
export function pipeline(
  source: PipelineSource<unknown>,
  ...stages: PipelineStep<unknown, unknown>[]
): Pipeline<unknown>;
export function pipeline(
  source: PipelineSource<unknown>,
  ...stages: PipelineStep<unknown, unknown>[]
): Pipeline<unknown> {
  const input = toObservable(source);
  for (const [i, s] of stages.entries()) {
    if (typeof s === 'function') continue;
    if (typeof s !== 'object' || s === null || typeof s.module !== 'string') {
      throw Object.assign(
        new TypeError(`pipeline: argument ${i + 2} is not a stage() or an operator`),
        {
          code: 'ERR_INVALID_ARG_TYPE',
        },
      );
    }
  }
  const events = new Subject<PipelineEvent>();
  const emit = (event: PipelineEvent): void => events.next(event);
  const output = new Observable<unknown>((subscriber) => {
    runJanitorOnce();
    let chain: Observable<unknown> = input;
    for (const [index, s] of stages.entries()) {
      chain = chain.pipe(typeof s === 'function' ? s : stagePool(s, index, emit));
    }
    const subscription: Subscription = chain.subscribe(subscriber);
    return subscription;
  });
  return Object.assign(output, { events: events.asObservable() });
}

function toObservable<T>(source: PipelineSource<T>): Observable<T> {
  if (isObservable(source)) return source as Observable<T>;
  if (
    source !== null &&
    typeof source === 'object' &&
    (Symbol.iterator in source || Symbol.asyncIterator in source)
  ) {
    return pullSource(source);
  }
  throw Object.assign(
    new TypeError('pipeline: the source must be an Observable, an iterable or an async iterable'),
    { code: 'ERR_INVALID_ARG_TYPE' },
  );
}
