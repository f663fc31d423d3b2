import {
  from,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  type Subscription,
} from 'rxjs';

import { OverflowError } from '../errors.js';
import { subscribeWithValve, ValveController } from './valve.js';

/** Options for {@link boundedMergeMap}. */
export interface BoundedMergeMapOptions {
  /** Inner observables running at once. Default: 1. */
  readonly concurrency?: number;
  /**
   * Messages held while every slot is busy. An rxipc source stops as soon as the slots are
   * full, so this only fills when a source ignores demand or one message expands into many
   * before reaching here. Default: `concurrency`. Past it: an `OverflowError`.
   */
  readonly bufferSize?: number;
}

/**
 * `mergeMap` with a bounded buffer and demand that reaches the kernel: it runs at most
 * `concurrency` inner observables, and while they are all busy the rxipc source upstream
 * stops reading (its kernel buffer fills, and the peer's `send` waits). Each inner that
 * completes returns its slot, and reading resumes.
 *
 * Plain `mergeMap(project, n)` buffers without limit instead; use this operator whenever the
 * consumer is asynchronous. Output order is completion order, as for `mergeMap`.
 *
 * @example
 * ```ts
 * open('fd:0?framing=line').pipe(
 *   boundedMergeMap((line) => from(handle(line)), { concurrency: 4 }),
 * ).subscribe();
 * ```
 * @throws {OverflowError} `ERR_RXIPC_OVERFLOW` (through the error channel) when more than
 * `bufferSize` messages arrive while every slot is busy.
 */
export function boundedMergeMap<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  options: BoundedMergeMapOptions = {},
): OperatorFunction<T, R> {
  const concurrency = options.concurrency ?? 1;
  const bufferSize = options.bufferSize ?? concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  if (!Number.isInteger(bufferSize) || bufferSize < 0) {
    throw new RangeError(`bufferSize must be a non-negative integer, got ${String(bufferSize)}`);
  }

  return (source) =>
    new Observable<R>((subscriber) => {
      const valve = new ValveController();
      const buffer: T[] = [];
      const inners = new Set<Subscription>();
      let index = 0;
      let sourceDone = false;

      const update = (): void => {
        if (inners.size >= concurrency || buffer.length > 0) valve.close();
        else valve.reopen();
        if (sourceDone && inners.size === 0 && buffer.length === 0) subscriber.complete();
      };

      const run = (value: T): void => {
        let inner: Subscription | undefined;
        let finished = false;
        const done = (): void => {
          finished = true;
          if (inner !== undefined) inners.delete(inner);
          if (buffer.length > 0 && inners.size < concurrency) run(buffer.shift()!);
          else update();
        };
        let input: ObservableInput<R>;
        try {
          input = project(value, index++);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        const subscription = from(input).subscribe({
          next: (result) => subscriber.next(result),
          error: (error: unknown) => subscriber.error(error),
          complete: done,
        });
        if (!finished) {
          inner = subscription;
          inners.add(subscription);
          update();
        }
      };

      const upstream = subscribeWithValve(source, valve, {
        next(value) {
          if (inners.size < concurrency && buffer.length === 0) {
            run(value);
            return;
          }
          if (buffer.length >= bufferSize) {
            subscriber.error(
              new OverflowError(
                `boundedMergeMap: ${concurrency} inner observables are busy and ${bufferSize} messages are buffered; the source does not honour demand (use an rxipc source, or raise bufferSize)`,
              ),
            );
            return;
          }
          buffer.push(value);
          valve.close();
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceDone = true;
          update();
        },
      });

      return () => {
        upstream.unsubscribe();
        for (const inner of inners) inner.unsubscribe();
        inners.clear();
      };
    });
}
