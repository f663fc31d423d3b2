/**
 * System V semaphore sets (sysvipc(7), semop(2)) as reactive resources. A set holds several
 * counters; one `semop` applies several operations atomically ("performed either as a
 * complete unit, or not at all"), so `acquire([{ num: 0 }, { num: 1 }])` takes from two
 * semaphores at once or waits, without the deadlocks of taking them one by one.
 *
 * Permits use `SEM_UNDO` by default: semop(2), "If an operation specifies SEM_UNDO, it will be
 * automatically undone when the process terminates." So a holder killed by `SIGKILL` gives its
 * counts back through the kernel, and the others proceed. `post()` and `wait()` are transfers
 * between processes (a producer posts, a consumer takes) and use no undo.
 */
import { Observable } from 'rxjs';

import {
  native as defaultBinding,
  type Binding,
  type SemOp,
  type SysvSemHandle,
  type SysvSemStat,
  type WaiterHandle,
} from '@rxipc/native';

import { checkInteger, checkMode, invalidValue } from '../permit/checks.js';
import { BasicPermit, LockCore, type WaiterCallback } from '../permit/lock-core.js';
import type { Lock, Permit } from '../permit/permit.js';
import { registerNamedObject } from '../registry/named-objects.js';

/** semctl(2): "SEMVMX Maximum value for semval". */
export const SEMVMX = 32767;

/** How a set is found: a key, a file and project id for `ftok(3)`, or a new private set. */
export type SysvSemKey = number | { readonly path: string; readonly projectId: number } | 'private';

/** Options for {@link sysvSemaphoreSet}. */
export interface SysvSemaphoreSetConfig {
  /** The key (32-bit), `{ path, projectId }` for `ftok(3)`, or `'private'` (`IPC_PRIVATE`). */
  readonly key?: SysvSemKey;
  /** Open an existing set by id instead (as `ipcs -s` shows it, or a private set's `id`). */
  readonly id?: number;
  /** Semaphores in the set (needed to create; `0`, the default, opens any size). */
  readonly nsems?: number;
  /** Create the set (`IPC_CREAT`). Default: `true` (with a key). */
  readonly create?: boolean;
  /** With `create`, fail with `EEXIST` if it exists (`IPC_EXCL`). Default: `true`. */
  readonly exclusive?: boolean;
  /** Permission bits of a new set. Default: `0o600`. */
  readonly mode?: number;
  /**
   * Values of a new set: one number for all, or one per semaphore (`0 .. 32767`). Set only by
   * the call that created the set (exclusive). Default: all `1`.
   */
  readonly initial?: number | readonly number[];
  /** `SEM_UNDO` on acquisitions (see the module comment). Default: `true`. */
  readonly undo?: boolean;
  /** Remove the set on `close()` (and at exit). Default: `true` when this call created it. */
  readonly removeOnClose?: boolean;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/** Which semaphore of the set, and how much: `{ num: 0, count: 1 }` by default. */
export interface SemRequest {
  /** The semaphore's index in the set. Default: `0`. */
  readonly num?: number;
  /** How much to take, `1 .. 32767`. Default: `1`. */
  readonly count?: number;
}

/** A System V semaphore set (see {@link sysvSemaphoreSet}). */
export class SysvSemaphoreSet implements Lock<Permit> {
  private readonly core: LockCore;
  private readonly forget: ((removeNow?: boolean) => void) | undefined;

  /** @internal Use {@link sysvSemaphoreSet}. */
  constructor(
    private readonly binding: Binding,
    private readonly handle: SysvSemHandle,
    /** The set's identifier (`ipcs -s`). */
    readonly id: number,
    /** The key (unsigned 32-bit; `0` for a private set). */
    readonly key: number,
    /** Semaphores in the set. */
    readonly nsems: number,
    /** Whether this call created the set. */
    readonly created: boolean,
    private readonly undo: boolean,
    removeOnClose: boolean,
  ) {
    this.core = new LockCore(binding, { keepIdle: 1 }, `semaphore set ${id}`);
    this.forget = removeOnClose
      ? registerNamedObject(
          {
            kind: 'sysv-sem',
            name: key === 0 ? `id:${id}` : `0x${key.toString(16).padStart(8, '0')}`,
          },
          () => binding.sysvSemRemove(handle),
        )
      : undefined;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Takes from one or several semaphores atomically (each `count`, default 1, from semaphore
   * `num`, default 0) and emits a {@link Permit} once it has them all; gives them back when
   * the subscription ends. With `undo` (the default), the kernel gives them back if this
   * process dies. Never completes on its own; unsubscribing while waiting cancels the wait.
   *
   * @example
   * ```ts
   * // a slot from semaphore 0 and a slot from semaphore 1, together or not at all
   * set.acquire([{ num: 0 }, { num: 1 }]).pipe(take(1)).subscribe();
   * ```
   * @throws {RangeError} `ERR_OUT_OF_RANGE`, at call time, for a `num` outside the set or a
   * `count` outside `1 .. 32767`.
   * On the error channel: `EIDRM` (syscall `'semop'`) when the set is removed while waiting;
   * `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  acquire(request: SemRequest | readonly SemRequest[] = {}): Observable<Permit> {
    const ops = this.decrements(request, this.undo);
    const rollback = ops.map((op) => ({ ...op, op: -op.op }));
    return this.core.acquire({
      waiter: this.waiterFor(ops, rollback),
      tryAcquire: () => this.binding.sysvSemOp(this.handle, ops),
      releaseFast: () => this.binding.sysvSemOp(this.handle, rollback),
      permit: (_held, release) => new BasicPermit(release),
    });
  }

  /**
   * Takes now if every semaphore asked for has enough: a {@link Permit}, or `null`. Never
   * blocks.
   *
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `num` or `count`; `ERR_RXIPC_LOCK_CLOSED`
   * after `close()`.
   */
  tryAcquire(request: SemRequest | readonly SemRequest[] = {}): Permit | null {
    this.core.checkOpen('tryAcquire');
    const ops = this.decrements(request, this.undo);
    if (!this.binding.sysvSemOp(this.handle, ops)) return null;
    const rollback = ops.map((op) => ({ ...op, op: -op.op }));
    const tracked = this.core.track(() => this.binding.sysvSemOp(this.handle, rollback));
    const permit = new BasicPermit(tracked.release);
    tracked.onAbort(() => permit.release());
    return permit;
  }

  /**
   * Takes for good (no undo): the consumer side of {@link post}. Emits once and completes when
   * every semaphore asked for could be decremented together. A subscriber that leaves while
   * waiting takes nothing.
   *
   * @example
   * ```ts
   * await firstValueFrom(set.wait({ num: 1 })); // until a peer posts semaphore 1
   * ```
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `num` or `count`.
   */
  wait(request: SemRequest | readonly SemRequest[] = {}): Observable<void> {
    return this.waitOps(this.decrements(request, false));
  }

  /**
   * Performs raw operations with `semop(2)`, blocking in a waiter thread until they can all be
   * done at once (an `op` of 0 waits for zero). Emits once and completes. If the subscriber
   * leaves just as they were done, their inverse is applied (best effort, `IPC_NOWAIT`).
   *
   * @throws {RangeError} for an operation outside the set or the `short` range.
   */
  waitOps(ops: readonly SemOp[]): Observable<void> {
    for (const op of ops) this.checkOp(op);
    const rollback = ops.filter((op) => op.op !== 0).map((op) => ({ ...op, op: -op.op }));
    return new Observable<void>((subscriber) =>
      this.core
        .acquire({
          waiter: this.waiterFor(ops, rollback),
          mode: 'consume',
          tryAcquire: () => this.binding.sysvSemOp(this.handle, ops),
          permit: () => new BasicPermit(() => {}),
        })
        .subscribe({
          next: () => subscriber.next(),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
    );
  }

  /**
   * `semop(2)` with `IPC_NOWAIT`: all of `ops` atomically (`true`), or nothing (`false`).
   *
   * @example
   * ```ts
   * set.op([{ num: 0, op: -1 }, { num: 1, op: 1 }]); // move one from 0 to 1, atomically
   * ```
   * @throws A system error `ERANGE` (syscall `'semop'`) when a value would pass `SEMVMX`
   * (32767); `E2BIG` beyond `SEMOPM` operations; `EIDRM` when removed.
   */
  op(ops: readonly SemOp[]): boolean {
    this.core.checkOpen('op');
    for (const op of ops) this.checkOp(op);
    return this.binding.sysvSemOp(this.handle, ops);
  }

  /**
   * Adds `count` (default 1) to semaphore `num` (default 0), waking whoever waits for it. No
   * undo: a post is a transfer.
   *
   * @throws A system error `ERANGE` when the value would pass `SEMVMX` (32767).
   */
  post(num = 0, count = 1): void {
    this.core.checkOpen('post');
    this.checkNum(num);
    checkInteger(count, 'count', 1, SEMVMX);
    this.binding.sysvSemOp(this.handle, [{ num, op: count }]);
  }

  /** `semctl(GETVAL)`: semaphore `num`'s value. */
  value(num = 0): number {
    this.core.checkOpen('value');
    this.checkNum(num);
    return this.binding.sysvSemGetValue(this.handle, num);
  }

  /** `semctl(GETALL)`: every value. */
  values(): number[] {
    this.core.checkOpen('values');
    return this.binding.sysvSemGetAll(this.handle);
  }

  /**
   * `semctl(SETVAL)`: sets semaphore `num` to `value` (`0 .. 32767`), clearing every process's
   * undo entries for it.
   *
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a value outside `0 .. 32767`.
   */
  setValue(num: number, value: number): void {
    this.core.checkOpen('setValue');
    this.checkNum(num);
    this.binding.sysvSemSetValue(this.handle, num, checkInteger(value, 'value', 0, SEMVMX));
  }

  /** The value, the last operator's pid, and how many wait for it to grow or reach zero. */
  info(num = 0): { value: number; pid: number; ncnt: number; zcnt: number } {
    this.core.checkOpen('info');
    this.checkNum(num);
    return this.binding.sysvSemInfo(this.handle, num);
  }

  /** `semctl(IPC_STAT)`. */
  stat(): SysvSemStat {
    this.core.checkOpen('stat');
    return this.binding.sysvSemStat(this.handle);
  }

  /**
   * `semctl(IPC_RMID)`: removes the set now; waiters everywhere wake with `EIDRM`.
   *
   * @throws A system error `EPERM` when this user may not, `EINVAL`/`EIDRM` when gone.
   */
  remove(): void {
    this.binding.sysvSemRemove(this.handle);
    this.forget?.();
  }

  /** Permits held and acquisitions pending in this process. */
  get active(): number {
    return this.core.activeCount;
  }

  /**
   * Releases every permit this object holds, errors pending acquisitions with
   * `ERR_RXIPC_LOCK_CLOSED`, closes the handle, and removes the set if this object is to
   * (`removeOnClose`). Idempotent.
   */
  close(): void {
    if (this.core.closed) return;
    this.core.close();
    try {
      this.forget?.(true);
    } finally {
      this.binding.sysvSemClose(this.handle);
    }
  }

  private waiterFor(
    ops: readonly SemOp[],
    rollback: readonly SemOp[],
  ): { key: string; create(callback: WaiterCallback): WaiterHandle } {
    return {
      key: JSON.stringify([ops, rollback]),
      create: (callback) => this.binding.sysvSemWaiter(this.handle, ops, rollback, callback),
    };
  }

  private decrements(request: SemRequest | readonly SemRequest[], undo: boolean): SemOp[] {
    const requests: readonly SemRequest[] = Array.isArray(request)
      ? request
      : [request as SemRequest];
    if (requests.length === 0) throw invalidValue('a request names at least one semaphore');
    return requests.map((r) => {
      const num = r.num ?? 0;
      this.checkNum(num);
      return { num, op: -checkInteger(r.count ?? 1, 'count', 1, SEMVMX), undo };
    });
  }

  private checkNum(num: number): void {
    checkInteger(num, 'num', 0, this.nsems - 1);
  }

  private checkOp(op: SemOp): void {
    this.checkNum(op.num);
    checkInteger(op.op, 'op', -32768, 32767);
  }
}

/**
 * Opens (by default, creates) a System V semaphore set, at once.
 *
 * With a key (or `ftok`'s `{ path, projectId }`), the set is created with mode `0o600` and
 * `IPC_EXCL` unless asked otherwise, and its values set from `initial` (default 1 each); a
 * second program opens it with `create: false`. `'private'` makes a new set only reachable by
 * its `id`. The creator removes the set on `close()` and at normal exit.
 *
 * @example
 * ```ts
 * const set = sysvSemaphoreSet({ key: { path: '/etc/hostname', projectId: 7 }, nsems: 2 });
 * set.acquire({ num: 1 }).subscribe((permit) => console.log('have it'));
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or fractional `nsems`, an `initial`
 * outside `0 .. 32767`, or a bad `mode`.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for `initial` of the wrong length, or neither a
 * key nor an id.
 * @throws A system error (syscall `'semget'`, with a hint): `ENOENT` with `create: false` and
 * no such set, `EEXIST`, `EINVAL` (`nsems` above `SEMMSL`), `ENOSPC`; `'ftok'` errors for a
 * missing path.
 */
export function sysvSemaphoreSet(config: SysvSemaphoreSetConfig): SysvSemaphoreSet {
  const binding = config.binding ?? defaultBinding;
  const mode = checkMode(config.mode, 0o600);
  const nsems = checkInteger(config.nsems ?? 0, 'nsems', 0, 0x7fffffff);
  const undo = config.undo ?? true;
  let handle: SysvSemHandle;
  let created = false;
  if (config.id !== undefined) {
    handle = binding.sysvSemOpenId(checkInteger(config.id, 'id', 0, 0x7fffffff));
  } else if (config.key !== undefined) {
    const key =
      config.key === 'private'
        ? 0
        : typeof config.key === 'number'
          ? checkInteger(config.key, 'key', -(2 ** 31), 2 ** 32 - 1)
          : binding.ftok(config.key.path, checkInteger(config.key.projectId, 'projectId', 1, 255));
    const create = key === 0 || (config.create ?? true);
    const exclusive = key === 0 || (create && (config.exclusive ?? true));
    if (create && nsems === 0) throw invalidValue('nsems (at least 1) is needed to create a set');
    handle = binding.sysvSemGet(key, nsems, { create, exclusive, mode });
    created = exclusive;
  } else {
    throw invalidValue(
      "a System V semaphore set needs a key (number, { path, projectId }, 'private') or an id",
    );
  }

  const stat = binding.sysvSemStat(handle);
  if (created) {
    const initial = config.initial ?? 1;
    const values =
      typeof initial === 'number' ? new Array<number>(stat.nsems).fill(initial) : initial;
    if (values.length !== stat.nsems) {
      binding.sysvSemRemove(handle);
      binding.sysvSemClose(handle);
      throw invalidValue(`initial has ${values.length} values for ${stat.nsems} semaphores`);
    }
    try {
      values.forEach((value, num) => {
        checkInteger(value, `initial[${num}]`, 0, SEMVMX);
        binding.sysvSemSetValue(handle, num, value);
      });
    } catch (error) {
      binding.sysvSemRemove(handle);
      binding.sysvSemClose(handle);
      throw error;
    }
  }
  return new SysvSemaphoreSet(
    binding,
    handle,
    stat.id,
    stat.key,
    stat.nsems,
    created,
    undo,
    config.removeOnClose ?? created,
  );
}
