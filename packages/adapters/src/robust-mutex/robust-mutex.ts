/**
 * A robust process-shared pthread mutex, and condition variables to wait with it, placed in a
 * shared-memory segment (`posixShm`, `memfdShm`, `sysvShm`): the lock for data that several
 * processes update in place.
 *
 * What makes it robust (pthread_mutexattr_setrobust(3)): when the process (or thread) that
 * holds it dies, the kernel marks it, and the next locker gets it with `EOWNERDEAD`: here a
 * permit with `ownerDied: true`. The data it protects may be half-updated: repair it, call
 * `markConsistent()`, and release. Releasing without marking leaves the mark for the next
 * locker (this process lets go the way a dying one does), so nobody unlocks unrepaired data by
 * accident; C programs that unlock an inconsistent mutex make it `ENOTRECOVERABLE` for good.
 *
 * The mutex is owned by a thread: each acquisition's waiter thread locks it, holds it, waits on
 * conditions with it and unlocks it; JavaScript never blocks.
 */
import { Observable } from 'rxjs';

import {
  native as defaultBinding,
  type Binding,
  type CondVarHandle,
  type RobustMutexHandle,
  type ShmMappingHandle,
  type WaiterHandle,
} from '@rxipc/native';

import { checkInteger, invalidValue } from '../permit/checks.js';
import { LockClosedError, LockCore, type Held, type ReleaseOptions } from '../permit/lock-core.js';
import type { Lock, Permit } from '../permit/permit.js';

/** Where a mutex or condition lives: a segment (anything with its `mapping`) and an offset. */
export interface SharedPlacement {
  /** The segment (from `posixShm`, `memfdShm` or `sysvShm`), or anything with its `mapping`. */
  readonly segment: { readonly mapping: ShmMappingHandle };
  /** Byte offset in the segment, a multiple of 8 (a mutex takes 40 bytes, a condition 48). */
  readonly offset: number;
  /**
   * Initialize it (`pthread_mutex_init`/`pthread_cond_init`). Exactly one process does, once,
   * before the others use it. Default: `false` (attach to an initialized one).
   */
  readonly init?: boolean;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/** A held robust mutex. */
export interface MutexPermit extends Permit {
  /**
   * The previous owner died holding the mutex (`EOWNERDEAD`): the protected data may be
   * inconsistent. Repair it, then {@link markConsistent} before releasing.
   */
  readonly ownerDied: boolean;
  /**
   * Declares the data repaired: the release (or the next condition wait) calls
   * `pthread_mutex_consistent` first. Without it, releasing a permit whose owner died leaves
   * the mark for the next locker.
   */
  markConsistent(): void;
  /**
   * Waits on `condition` with this mutex (`pthread_cond_wait`): releases the mutex while
   * waiting and holds it again before emitting once and completing. It may also emit without
   * a signal (spuriously, and at the latest after `timeoutMs`, default 100): check the
   * condition and wait again, as with any condition variable. Unsubscribing cancels the wait
   * (noticed by the next timeout); the mutex is held again either way. One wait at a time.
   */
  wait(condition: ConditionVariable, options?: { readonly timeoutMs?: number }): Observable<void>;
}

/** A robust process-shared mutex (see {@link robustMutex}). */
export class RobustMutex implements Lock<MutexPermit> {
  private readonly core: LockCore;

  /** @internal Use {@link robustMutex}. */
  constructor(
    private readonly binding: Binding,
    private readonly handle: RobustMutexHandle,
    /** Where it lives in its segment. */
    readonly offset: number,
  ) {
    this.core = new LockCore(
      binding,
      { create: (callback) => binding.robustMutexWaiter(handle, callback), keepIdle: 1 },
      `robust mutex at offset ${offset}`,
    );
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Locks the mutex in a waiter thread (never on the event loop) and emits a
   * {@link MutexPermit}; unlocks when the subscription ends. Never completes on its own;
   * unsubscribing while waiting cancels within 10 ms.
   *
   * @example
   * ```ts
   * mutex.acquire().pipe(take(1)).subscribe((permit) => {
   *   if (permit.ownerDied) { repair(view); permit.markConsistent(); }
   *   view[0]++;
   * });
   * ```
   * @throws Nothing at call time. On the error channel: `ENOTRECOVERABLE` (syscall
   * `'pthread_mutex_lock'`) when someone unlocked it inconsistent; `ERR_RXIPC_LOCK_CLOSED`.
   */
  acquire(): Observable<MutexPermit> {
    return this.core.acquire<MutexPermit>({
      permit: (held, release) => new HeldMutex(this.binding, held, release),
    });
  }

  /** Permits held and acquisitions pending in this process. */
  get active(): number {
    return this.core.activeCount;
  }

  /**
   * Resolves once this object holds nothing, waits for nothing and unlocks nothing: a release
   * unlocks on the holding thread, just after `release()` returns.
   *
   * @example
   * ```ts
   * permit.release();
   * await mutex.settled(); // now unlocked
   * ```
   */
  settled(): Promise<void> {
    return this.core.whenEmpty();
  }

  /**
   * Unlocks what this object holds (each on its own thread), errors pending acquisitions
   * with `ERR_RXIPC_LOCK_CLOSED`, waits for those threads, then closes the handle. The memory
   * stays the segment's. Idempotent.
   */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.close();
    await this.core.whenEmpty();
    this.binding.robustMutexClose(this.handle);
  }
}

/** A process-shared condition variable (see {@link conditionVariable}). */
export class ConditionVariable {
  private isClosed = false;

  /** @internal Use {@link conditionVariable}. */
  constructor(
    private readonly binding: Binding,
    /** The native handle (for {@link MutexPermit.wait}). */
    readonly handle: CondVarHandle,
    /** Where it lives in its segment. */
    readonly offset: number,
  ) {}

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * `pthread_cond_signal`: wakes one waiter in any process. Never blocks; holding the mutex is
   * not required (but usual, so that the waiter cannot miss the change).
   *
   * @throws {LockClosedError} `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  signal(): void {
    this.check('signal');
    this.binding.condSignal(this.handle);
  }

  /**
   * `pthread_cond_broadcast`: wakes every waiter.
   *
   * @throws {LockClosedError} `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  broadcast(): void {
    this.check('broadcast');
    this.binding.condBroadcast(this.handle);
  }

  /** Closes the handle (a wait in progress on it ends with an error). Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.binding.condClose(this.handle);
  }

  private check(action: string): void {
    if (this.isClosed) throw new LockClosedError(`${action} on a closed condition variable`);
  }
}

/**
 * A robust process-shared mutex at `offset` of a shared-memory segment: initialized here with
 * `init: true` (one process, once), attached otherwise. Unlike the semaphores, it survives its
 * holder's death: see {@link MutexPermit.ownerDied}.
 *
 * @example
 * ```ts
 * const segment = posixShm({ name: '/counters', size: 4096 });
 * const mutex = robustMutex({ segment, offset: 0, init: segment.created });
 * const counters = new Float64Array(segment.buffer, 64, 8);
 * withPermit(mutex)(defer(() => of(counters[0]++))).subscribe();
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for an offset that is not a multiple of 8 with 40
 * bytes inside the segment.
 * @throws A system error from `pthread_mutex_init` (`EAGAIN`, `ENOMEM`).
 */
export function robustMutex(config: SharedPlacement): RobustMutex {
  const binding = config.binding ?? defaultBinding;
  const offset = checkInteger(config.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const handle =
    config.init === true
      ? binding.robustMutexInit(config.segment.mapping, offset)
      : binding.robustMutexAttach(config.segment.mapping, offset);
  return new RobustMutex(binding, handle, offset);
}

/**
 * A process-shared condition variable at `offset` of a shared-memory segment, to wait on with
 * a {@link robustMutex}'s permit (`permit.wait(condition)`).
 *
 * @example
 * ```ts
 * const changed = conditionVariable({ segment, offset: 64, init: segment.created });
 * // a writer, holding the mutex: update, then changed.broadcast()
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for an offset that is not a multiple of 8 with 48
 * bytes inside the segment.
 */
export function conditionVariable(config: SharedPlacement): ConditionVariable {
  const binding = config.binding ?? defaultBinding;
  const offset = checkInteger(config.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const handle =
    config.init === true
      ? binding.condInit(config.segment.mapping, offset)
      : binding.condAttach(config.segment.mapping, offset);
  return new ConditionVariable(binding, handle, offset);
}

class HeldMutex implements MutexPermit {
  private isReleased = false;
  private dead: boolean;
  private consistent = false;
  private waiting = false;
  private releaseAfterWait = false;
  private readonly waiter: WaiterHandle;

  constructor(
    private readonly binding: Binding,
    private readonly held: Held,
    private readonly giveBack: (options?: ReleaseOptions) => void,
  ) {
    this.dead = held.ownerDied;
    this.waiter = held.waiter!;
  }

  get ownerDied(): boolean {
    return this.dead;
  }

  get released(): boolean {
    return this.isReleased;
  }

  markConsistent(): void {
    this.consistent = true;
  }

  wait(
    condition: ConditionVariable,
    options: { readonly timeoutMs?: number } = {},
  ): Observable<void> {
    const timeoutMs = checkInteger(options.timeoutMs ?? 100, 'timeoutMs', 1, 2 ** 31 - 1);
    return new Observable<void>((subscriber) => {
      if (this.isReleased) {
        subscriber.error(new LockClosedError('wait on a released mutex permit'));
        return;
      }
      if (this.waiting) {
        subscriber.error(invalidValue('a mutex permit waits on one condition at a time'));
        return;
      }
      this.binding.robustMutexCondWait(this.waiter, condition.handle, {
        timeoutMs,
        markConsistent: this.consistent,
      });
      this.waiting = true;
      let done = false;
      this.held.intercept((error) => {
        done = true;
        this.waiting = false;
        if (error !== null) {
          subscriber.error(error);
        } else {
          const { result } = this.binding.lockWaiterState(this.waiter);
          if (result === 'owner-dead') {
            // Got the mutex back from an owner that died while we waited: repair again.
            this.dead = true;
            this.consistent = false;
          }
          if (result !== 'cancelled') {
            subscriber.next();
            subscriber.complete();
          }
        }
        if (this.releaseAfterWait) this.giveBackNow();
      });
      return () => {
        if (!done) this.binding.lockWaiterCancel(this.waiter);
      };
    });
  }

  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    if (this.waiting) {
      // The thread is in pthread_cond_wait: let it hold the mutex again first.
      this.releaseAfterWait = true;
      this.binding.lockWaiterCancel(this.waiter);
      return;
    }
    this.giveBackNow();
  }

  private giveBackNow(): void {
    if (this.dead && !this.consistent) this.giveBack({ abandon: true });
    else this.giveBack({ markConsistent: this.consistent });
  }
}
