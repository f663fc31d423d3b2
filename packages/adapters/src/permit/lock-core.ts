/**
 * The engine behind every lock's `acquire()`: a non-blocking attempt first, then a native lock
 * waiter (a thread the waiter owns, never the libuv pool) that blocks until acquired. Internal
 * to the adapters: the semaphore, file-lock and robust-mutex modules build on it.
 *
 * What it guarantees:
 * - one subscription is one acquisition, released when the subscription ends;
 * - unsubscribing while waiting cancels the wait without blocking the event loop, and an
 *   acquisition that lands just as the subscriber leaves is released, never leaked (the native
 *   waiter releases it itself, or reports it and this code releases it);
 * - closing the lock releases every permit still held and errors every pending acquisition
 *   with {@link LockClosedError}.
 *
 * Idle waiters are kept for reuse (at most `keepIdle` per lock), so a contended lock does not
 * start a thread per acquisition. An idle waiter keeps neither the process nor its JS object
 * alive.
 */
import { Observable, type Subscriber } from 'rxjs';

import type { Binding, SystemError, WaiterHandle } from '@rxipc/native';

import type { Permit } from './permit.js';

/** A lock (semaphore, file lock, mutex) was used after `close()`. */
export class LockClosedError extends Error {
  override readonly name = 'LockClosedError';
  readonly code = 'ERR_RXIPC_LOCK_CLOSED';
}

/** The reports of one native lock waiter, as its callback receives them. */
export type WaiterCallback = (error: SystemError | null) => void;

/** How a lock makes and disposes of its native waiters. */
export interface WaiterFactory {
  /** Starts a native lock waiter that begins acquiring at once. */
  create?(callback: WaiterCallback): WaiterHandle;
  /** Closes a waiter (and whatever belongs to it alone). Default: `waiterClose`. */
  dispose?(waiter: WaiterHandle): void;
  /** Idle waiters kept for reuse, per kind of acquisition (see {@link AcquireSpec.waiter}). */
  readonly keepIdle: number;
}

/** A held acquisition as the lock-specific permit sees it. */
export interface Held {
  /** The waiter that holds it, or `undefined` for the non-blocking path. */
  readonly waiter: WaiterHandle | undefined;
  /** The previous owner died holding it (robust mutexes). */
  readonly ownerDied: boolean;
  /**
   * Sends the held waiter's next report to `listener` instead of the acquisition: for a
   * command run on the holding thread (a robust mutex's condition wait).
   */
  intercept(listener: WaiterCallback): void;
}

/** How a permit gives back what it holds. */
export interface ReleaseOptions {
  /** Robust mutexes: `pthread_mutex_consistent` before unlocking. */
  readonly markConsistent?: boolean;
  /**
   * Robust mutexes: do not unlock; close the waiter, so that its thread exits holding the
   * mutex and the next locker is told the owner died (the data was not repaired).
   */
  readonly abandon?: boolean;
}

/** What one lock contributes to {@link LockCore.acquire}. */
export interface AcquireSpec<P extends Permit> {
  /** The non-blocking attempt: `true` when acquired. Omitted: always wait in a thread. */
  tryAcquire?(): boolean;
  /** Gives back what {@link tryAcquire} took. */
  releaseFast?(): void;
  /**
   * Wraps an acquisition. `release` gives it back (through the waiter when there is one) and
   * is what the permit's own `release` must call; it is idempotent.
   */
  permit(held: Held, release: (options?: ReleaseOptions) => void): P;
  /**
   * `'consume'`: the acquisition is taken for good (a semaphore `wait()`), not held: the
   * observable emits the permit and completes, and nothing is released afterwards.
   */
  readonly mode?: 'hold' | 'consume';
  /**
   * A waiter for this kind of acquisition, when the lock's factory does not fit (a System V
   * set's waiter performs fixed operations). Idle waiters are reused by `key`.
   */
  readonly waiter?: { readonly key: string; create(callback: WaiterCallback): WaiterHandle };
}

interface Live {
  /** Release now if held; error the subscriber if still waiting. */
  abort(error: Error): void;
}

/** Waiters and live acquisitions of one lock object. */
export class LockCore {
  private readonly idle = new Map<string, WaiterHandle[]>();
  private readonly kinds = new Map<WaiterHandle, string>();
  private readonly listeners = new Map<WaiterHandle, WaiterCallback>();
  private readonly live = new Set<Live>();
  private readonly emptied: Array<() => void> = [];
  private isClosed = false;

  constructor(
    private readonly binding: Binding,
    private readonly factory: WaiterFactory,
    private readonly what: string,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Permits held and acquisitions pending now. */
  get activeCount(): number {
    return this.live.size;
  }

  /** Throws {@link LockClosedError} once closed. */
  checkOpen(action: string): void {
    if (this.isClosed) throw new LockClosedError(`${action} on a closed ${this.what}`);
  }

  /**
   * One acquisition per subscription (see the module comment). A system error from the wait
   * (`EIDRM` for a removed set, `EDEADLK`, ...) arrives on the error channel.
   */
  acquire<P extends Permit>(spec: AcquireSpec<P>): Observable<P> {
    return new Observable<P>((subscriber) => {
      if (this.isClosed) {
        subscriber.error(new LockClosedError(`acquire on a closed ${this.what}`));
        return;
      }
      if (spec.tryAcquire?.() === true) return this.holdFast(subscriber, spec);
      return this.wait(subscriber, spec);
    });
  }

  /**
   * Releases every permit still held and errors every pending acquisition (with
   * {@link LockClosedError}), then closes the idle waiters. The caller closes the native
   * object afterwards (which closes any waiter still busy). Idempotent.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.releaseAll(new LockClosedError(`the ${this.what} was closed`));
    for (const waiters of this.idle.values()) for (const waiter of waiters) this.dispose(waiter);
    this.idle.clear();
  }

  /**
   * Resolves once no permit is held and no acquisition is pending or being released (a mutex
   * unlocks on its waiter's thread, asynchronously). For closing a robust mutex.
   */
  whenEmpty(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** Releases every permit held and errors every pending acquisition with `error`. */
  releaseAll(error: Error): void {
    for (const live of [...this.live]) live.abort(error);
  }

  /**
   * Records an acquisition made outside {@link acquire} (a `tryAcquire`), so that
   * {@link close} releases it. Returns its release function (idempotent); `onAbort` is what
   * close calls (usually the permit's own `release`).
   */
  track(releaseNow: () => void): { release: () => void; onAbort: (abort: () => void) => void } {
    let released = false;
    let abort = (): void => release();
    const live: Live = { abort: () => abort() };
    const release = (): void => {
      if (released) return;
      released = true;
      this.forgetLive(live);
      releaseNow();
    };
    this.live.add(live);
    return { release, onAbort: (handler) => (abort = handler) };
  }

  private holdFast<P extends Permit>(subscriber: Subscriber<P>, spec: AcquireSpec<P>): () => void {
    if (spec.mode === 'consume') {
      subscriber.next(spec.permit(NOT_HELD_BY_A_WAITER, () => {}));
      subscriber.complete();
      return () => {};
    }
    const tracked = this.track(() => spec.releaseFast?.());
    const permit = spec.permit(NOT_HELD_BY_A_WAITER, tracked.release);
    tracked.onAbort(() => permit.release());
    subscriber.next(permit);
    return () => permit.release();
  }

  private wait<P extends Permit>(subscriber: Subscriber<P>, spec: AcquireSpec<P>): () => void {
    let permit: P | undefined;
    let waiting = true;
    let released = false;

    const live: Live = {
      abort: (error) => {
        if (permit !== undefined) {
          permit.release();
        } else if (waiting) {
          waiting = false;
          this.binding.lockWaiterCancel(waiter);
          subscriber.error(error);
        }
      },
    };

    let intercepted: WaiterCallback | undefined;
    const onReport: WaiterCallback = (error) => {
      if (intercepted !== undefined) {
        const listener = intercepted;
        intercepted = undefined;
        listener(error);
        return;
      }
      if (error !== null) {
        waiting = false;
        this.forgetLive(live);
        this.discard(waiter);
        subscriber.error(error);
        return;
      }
      const { result } = this.binding.lockWaiterState(waiter);
      if (result === 'acquired' || result === 'owner-dead') {
        waiting = false;
        if (spec.mode === 'consume') {
          if (subscriber.closed) {
            // The subscriber left just as the count was taken: give it back.
            release();
            return;
          }
          this.binding.lockWaiterDisown(waiter);
          this.forgetLive(live);
          this.recycle(waiter);
          subscriber.next(spec.permit(NOT_HELD_BY_A_WAITER, () => {}));
          subscriber.complete();
          return;
        }
        permit = spec.permit(
          {
            waiter,
            ownerDied: result === 'owner-dead',
            intercept: (listener) => (intercepted = listener),
          },
          release,
        );
        // Acquired just as the subscriber left (the cancel lost the race): release it.
        if (subscriber.closed) permit.release();
        else subscriber.next(permit);
      } else if (result === 'cancelled' || result === 'released') {
        this.forgetLive(live);
        this.recycle(waiter);
      }
    };

    const release = (options: ReleaseOptions = {}): void => {
      if (released) return;
      released = true;
      if (options.abandon === true) {
        this.forgetLive(live);
        this.discard(waiter);
        return;
      }
      let now: boolean;
      try {
        now = this.binding.lockWaiterRelease(waiter, options);
      } catch {
        // The object is gone (a removed set, a closed handle): nothing is left to release.
        this.forgetLive(live);
        this.discard(waiter);
        return;
      }
      // Released on the waiter's thread (a mutex): its 'released' report recycles it.
      if (now) {
        this.forgetLive(live);
        this.recycle(waiter);
      }
    };

    const waiter = this.start(onReport, spec.waiter);
    this.live.add(live);
    return () => {
      if (permit !== undefined) {
        permit.release();
      } else if (waiting) {
        waiting = false;
        this.binding.lockWaiterCancel(waiter);
      }
    };
  }

  private forgetLive(live: Live): void {
    this.live.delete(live);
    if (this.live.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }

  private start(listener: WaiterCallback, kind: AcquireSpec<Permit>['waiter']): WaiterHandle {
    const key = kind?.key ?? '';
    const reused = this.idle.get(key)?.pop();
    if (reused !== undefined) {
      this.listeners.set(reused, listener);
      this.binding.lockWaiterAcquire(reused);
      return reused;
    }
    const create = kind?.create ?? this.factory.create;
    if (create === undefined) throw new Error(`internal: no waiter factory for the ${this.what}`);
    // Reports come from the event loop, never during create(), so `created` is set by then.
    const created: WaiterHandle = create((error) => this.listeners.get(created)?.(error));
    this.listeners.set(created, listener);
    this.kinds.set(created, key);
    return created;
  }

  private recycle(waiter: WaiterHandle): void {
    this.listeners.delete(waiter);
    const key = this.kinds.get(waiter) ?? '';
    const idle = this.idle.get(key) ?? [];
    if (!this.isClosed && idle.length < this.factory.keepIdle) {
      idle.push(waiter);
      this.idle.set(key, idle);
    } else {
      this.dispose(waiter);
    }
  }

  private discard(waiter: WaiterHandle): void {
    this.listeners.delete(waiter);
    this.dispose(waiter);
  }

  private dispose(waiter: WaiterHandle): void {
    this.kinds.delete(waiter);
    if (this.factory.dispose !== undefined) this.factory.dispose(waiter);
    else this.binding.waiterClose(waiter);
  }
}

const NOT_HELD_BY_A_WAITER: Held = {
  waiter: undefined,
  ownerDied: false,
  intercept: () => {
    throw new Error('internal: no waiter holds this permit');
  },
};

/** A permit whose release runs `onRelease` once. */
export class BasicPermit implements Permit {
  private isReleased = false;

  constructor(private readonly onRelease: () => void) {}

  get released(): boolean {
    return this.isReleased;
  }

  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    try {
      this.onRelease();
    } catch {
      // The kernel object is gone; there is nothing left to release.
    }
  }
}
