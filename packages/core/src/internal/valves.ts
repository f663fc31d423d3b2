/**
 * Small valve tools for core: combining valves, and a pull-based source over an iterable that
 * honours the valve in force when it is subscribed (as rxipc channels do).
 */
import { currentValve, type Valve } from '@rxipc/adapters';
import { Observable } from 'rxjs';

/** A valve that is always open. */
export const ALWAYS_OPEN: Valve = { open: true, onOpen: () => () => {} };

/** A valve open while every one of `valves` is open (undefined ones are ignored). */
export function allOpen(...valves: (Valve | undefined)[]): Valve {
  const list = valves.filter((v): v is Valve => v !== undefined);
  if (list.length === 0) return ALWAYS_OPEN;
  if (list.length === 1) return list[0]!;
  return {
    get open() {
      return list.every((v) => v.open);
    },
    onOpen(listener) {
      const fire = (): void => {
        if (list.every((v) => v.open)) listener();
      };
      const offs = list.map((v) => v.onOpen(fire));
      return () => offs.forEach((off) => off());
    },
  };
}

/**
 * An `Observable` of an iterable or async iterable that pulls the next value only while the
 * valve in force at subscription (see `subscribeWithValve`) is open, so a pipeline reads a
 * generator, an array or a file's lines only as fast as the first stage takes them. Holds
 * nothing: one value at a time. Completes at the iterable's end; errors with what it throws.
 */
export function pullSource<T>(iterable: Iterable<T> | AsyncIterable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const valve = currentValve() ?? ALWAYS_OPEN;
    const iterator =
      Symbol.asyncIterator in iterable
        ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (iterable as Iterable<T>)[Symbol.iterator]();
    let running = false;
    let done = false;
    let stopListening = (): void => {};

    const pull = async (): Promise<void> => {
      if (running || done) return;
      running = true;
      try {
        // At most 256 synchronous values per turn, so a huge array does not starve the loop.
        for (let n = 0; valve.open && !subscriber.closed; n++) {
          if (n === 256) {
            n = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
            continue;
          }
          const step = iterator.next();
          const result = isPromise(step) ? await step : step;
          if (result.done === true) {
            done = true;
            subscriber.complete();
            return;
          }
          subscriber.next(result.value);
        }
      } catch (error) {
        done = true;
        subscriber.error(error);
      } finally {
        running = false;
      }
    };

    stopListening = valve.onOpen(() => void pull());
    queueMicrotask(() => void pull());
    return () => {
      stopListening();
      if (!done) {
        done = true;
        void Promise.resolve(iterator.return?.()).catch(() => {});
      }
    };
  });
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}
