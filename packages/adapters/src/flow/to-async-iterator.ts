import type { Observable, Subscription } from 'rxjs';

import { subscribeWithValve, ValveController } from './valve.js';

/**
 * Pulls from `source` as an async iterator. The source is subscribed through a valve that
 * closes while `bufferSize` messages wait for a `next()` call, so an rxipc source reads from
 * the kernel only as fast as the loop consumes.
 *
 * Buffer: at most `bufferSize` messages (default 64), plus whatever a source that ignores
 * valves pushes; such a source is not slowed, and its messages are all kept.
 */
export function toAsyncIterator<T>(source: Observable<T>, bufferSize = 64): AsyncIterator<T> {
  const buffered: T[] = [];
  const valve = new ValveController();
  let waiting:
    { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let end: { error?: unknown } | undefined;
  let subscription: Subscription | undefined;

  const settle = (): void => {
    if (waiting === undefined) return;
    const { resolve, reject } = waiting;
    if (buffered.length > 0) {
      waiting = undefined;
      resolve({ value: buffered.shift()!, done: false });
    } else if (end !== undefined) {
      waiting = undefined;
      if ('error' in end) reject(end.error);
      else resolve({ value: undefined, done: true });
    }
    if (buffered.length < bufferSize) valve.reopen();
  };

  const start = (): void => {
    subscription = subscribeWithValve(source, valve, {
      next(value) {
        buffered.push(value);
        if (buffered.length >= bufferSize) valve.close();
        settle();
      },
      error(error: unknown) {
        end = { error };
        settle();
      },
      complete() {
        end = {};
        settle();
      },
    });
  };

  const finish = (): IteratorResult<T> => {
    subscription?.unsubscribe();
    end ??= {};
    buffered.length = 0;
    return { value: undefined, done: true };
  };

  return {
    next() {
      if (subscription === undefined) start();
      if (buffered.length > 0) {
        const value = buffered.shift()!;
        if (buffered.length < bufferSize) valve.reopen();
        return Promise.resolve({ value, done: false });
      }
      if (end !== undefined) {
        return 'error' in end
          ? Promise.reject(end.error)
          : Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return() {
      return Promise.resolve(finish());
    },
  };
}
