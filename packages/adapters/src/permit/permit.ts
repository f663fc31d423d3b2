/**
 * The reactive shape of everything that is acquired and released (semaphores, file locks,
 * robust mutexes): acquiring is an `Observable` that emits one {@link Permit} when acquired
 * and releases it when the subscription ends, however it ends (`take`, `timeout`,
 * `takeUntil`, an error downstream, `unsubscribe`). {@link withPermit} runs any inner
 * `Observable` while holding a permit.
 */
import { from, Observable, type ObservableInput, type Subscription } from 'rxjs';

import { LockClosedError } from './lock-core.js';

/**
 * Something held: a semaphore count, a file lock, a mutex. Released when the subscription
 * that produced it ends, or earlier by {@link Permit.release}.
 */
export interface Permit {
  /** Whether it has been released (by {@link release} or by the subscription's end). */
  readonly released: boolean;
  /**
   * Gives it back now. Idempotent, and never throws: if the kernel object is gone (a removed
   * set, a closed handle) there is nothing left to release.
   */
  release(): void;
}

/** Anything with the reactive acquire shape. */
export interface Lock<P extends Permit = Permit> {
  /**
   * An `Observable` that emits one permit once acquired, never completes on its own, and
   * releases the permit when unsubscribed. Unsubscribing while still waiting cancels the wait;
   * each subscription is one acquisition. Waiting never blocks the event loop.
   */
  acquire(): Observable<P>;
}

/**
 * Gates an inner `Observable` by a permit of `lock`: subscribes to it only once the permit is
 * acquired, and releases the permit when it completes, errors or is unsubscribed. With a
 * semaphore of N, at most N inner observables run at once across every process that shares
 * it: a cross-process concurrency limit.
 *
 * The inner observable may also be given as a function of the permit (for a robust mutex's
 * `ownerDied`, say).
 *
 * @example
 * ```ts
 * const slots = posixSemaphore({ name: '/render-slots', initial: 4, exclusive: false });
 * jobs$.pipe(mergeMap((job) => withPermit(slots)(render(job)))).subscribe();
 * ```
 * @throws Nothing at call time; the acquisition's errors (system errors with `code`, `errno`,
 * `syscall`) arrive on the returned observable's error channel.
 */
export function withPermit<P extends Permit>(
  lock: Lock<P>,
): <T>(inner: Observable<T> | ((permit: P) => ObservableInput<T>)) => Observable<T> {
  return <T>(inner: Observable<T> | ((permit: P) => ObservableInput<T>)) =>
    new Observable<T>((subscriber) => {
      let innerSubscription: Subscription | undefined;
      const permitSubscription = lock.acquire().subscribe({
        next: (permit) => {
          if (innerSubscription !== undefined) return; // acquire emits once
          let source: Observable<T>;
          try {
            source = inner instanceof Observable ? inner : from(inner(permit));
          } catch (error) {
            subscriber.error(error);
            return;
          }
          innerSubscription = source.subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => subscriber.error(error),
            complete: () => subscriber.complete(),
          });
        },
        error: (error: unknown) => subscriber.error(error),
      });
      // Inner first, then the permit: the work has stopped before another process may start.
      return () => {
        innerSubscription?.unsubscribe();
        permitSubscription.unsubscribe();
      };
    });
}

/**
 * Acquires a permit of `lock` as a promise, for `async` code: resolves once acquired with a
 * permit that stays held until its `release()` (unlike `firstValueFrom(lock.acquire())`, whose
 * permit is released as soon as the value arrives, because the subscription ends). With
 * `signal`, aborting before the permit arrives cancels the wait and rejects with the signal's
 * reason.
 *
 * @example
 * ```ts
 * const permit = await acquirePermit(lock, { signal: AbortSignal.timeout(5000) });
 * try { await work(); } finally { permit.release(); }
 * ```
 * @throws Rejects with the acquisition's error (a system error, `ERR_RXIPC_LOCK_CLOSED`) or the
 * abort reason.
 */
export function acquirePermit<P extends Permit>(
  lock: Lock<P>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<P> {
  const { signal } = options;
  return new Promise<P>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      subscription.unsubscribe();
      reject(signal?.reason);
    };
    // The handlers below touch `subscription` only after this assignment: a permit acquired
    // at once arrives during subscribe(), but is released (and unsubscribes) later.
    const subscription: Subscription = lock.acquire().subscribe({
      next: (permit) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        // The permit as it is, except that releasing it also ends the subscription (read
        // lazily: a permit acquired at once arrives before subscribe() has returned).
        const release = (): void => {
          permit.release();
          subscription.unsubscribe();
        };
        resolve(
          new Proxy(permit, {
            get(target, key) {
              if (key === 'release') return release;
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }),
        );
      },
      error: (error: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
      complete: () => {
        if (settled) return;
        settled = true;
        reject(new LockClosedError('the acquisition completed without a permit'));
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
