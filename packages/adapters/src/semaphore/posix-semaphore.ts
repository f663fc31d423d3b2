/**
 * POSIX semaphores (sem_overview(7)) as reactive resources: a named semaphore
 * ({@link posixSemaphore}, `/dev/shm/sem.NAME`, shared by name with any process, C programs
 * included) and an unnamed process-shared one placed in a shared-memory segment
 * ({@link sharedSemaphore}). Both count: `acquire()` takes one and gives it back when the
 * subscription ends; `wait()` takes one for good (the consumer side of `post()`).
 *
 * **A POSIX semaphore has no owner and no undo.** If a process dies holding a count (killed,
 * crashed), the count stays taken: the kernel does not know who took it. rxipc releases what
 * is still held when a process exits normally (an `exit` hook), but after `SIGKILL` only a
 * recovery path helps: with `leases: true` each permit is recorded in the registry of named
 * objects, and {@link reclaimSemaphoreLeases} posts back the counts whose holder is gone.
 * Where the count must survive a crash without help, use a System V set with `SEM_UNDO`
 * ({@link sysvSemaphoreSet}) or a file lock.
 */
import { Observable } from 'rxjs';

import {
  native as defaultBinding,
  type Binding,
  type PosixSemHandle,
  type ShmMappingHandle,
} from '@rxipc/native';

import { registerNamedObject } from '../registry/named-objects.js';
import { checkInteger, checkMode } from '../permit/checks.js';
import { BasicPermit, LockCore } from '../permit/lock-core.js';
import type { Lock, Permit } from '../permit/permit.js';

/** The kind under which leases are recorded in the registry of named objects. */
export const SEMAPHORE_LEASE_KIND = 'posix-sem-lease';

/** `SEM_VALUE_MAX` on Linux. */
export const SEM_VALUE_MAX = 2 ** 31 - 1;

/** Options for {@link posixSemaphore}. */
export interface PosixSemaphoreConfig {
  /** `/somename` (at most 251 characters); the semaphore is `/dev/shm/sem.somename`. */
  readonly name: string;
  /** Create the semaphore (`O_CREAT`). Default: `true`. */
  readonly create?: boolean;
  /**
   * With `create`, fail with `EEXIST` if it exists already (`O_EXCL`). Default: `true`, so
   * that two programs never both believe they created (and initialized) it. Pass `false` to
   * open-or-create.
   */
  readonly exclusive?: boolean;
  /** Permission bits of a new semaphore. Default: `0o600`. */
  readonly mode?: number;
  /** Value of a new semaphore, `0 .. 2^31-1`. Default: `1`. */
  readonly initial?: number;
  /**
   * Remove the name on `close()` (and at exit if still open). Default: `true` when this call
   * created the semaphore, `false` when it opened an existing one.
   */
  readonly unlinkOnClose?: boolean;
  /**
   * Record a lease for every permit held, so that {@link reclaimSemaphoreLeases} can give back
   * the counts of a holder that was killed. Costs a small file write per acquisition.
   * Default: `false`.
   */
  readonly leases?: boolean;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/** Options for {@link sharedSemaphore}. */
export interface SharedSemaphoreConfig {
  /** The segment (from `posixShm`, `memfdShm` or `sysvShm`), or anything with its `mapping`. */
  readonly segment: { readonly mapping: ShmMappingHandle };
  /** Byte offset of the semaphore in the segment: a multiple of 8, with 32 bytes free. */
  readonly offset: number;
  /**
   * Initialize the semaphore with this value (`sem_init`). Exactly one process does this,
   * before the others attach (omit it to attach to an initialized one).
   */
  readonly initial?: number;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/** What both kinds of POSIX semaphore offer. */
export abstract class Semaphore implements Lock<Permit> {
  protected readonly core: LockCore;

  protected constructor(
    protected readonly binding: Binding,
    protected readonly handle: PosixSemHandle,
    what: string,
    private readonly leaseName?: string,
  ) {
    this.core = new LockCore(
      binding,
      { create: (callback) => binding.semWaiter(handle, callback), keepIdle: 1 },
      what,
    );
    liveSemaphores.add(this.core);
    installExitHook();
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Takes one (`sem_trywait`, else `sem_wait` in a waiter thread) and emits a {@link Permit}
   * once it has it; gives it back (`sem_post`) when the subscription ends. Never completes on
   * its own. Unsubscribing while waiting cancels the wait.
   *
   * @example
   * ```ts
   * sem.acquire().pipe(take(1)).subscribe(); // acquired, then released at once by take(1)
   * sem.acquire().pipe(timeout(1000)).subscribe({ error: () => console.log('busy') });
   * ```
   * @throws Nothing at call time. On the error channel: `ERR_RXIPC_LOCK_CLOSED` after
   * `close()`; a system error from `sem_wait` (`EINVAL`: destroyed).
   */
  acquire(): Observable<Permit> {
    return this.core.acquire({
      tryAcquire: () => this.binding.semTryWait(this.handle),
      releaseFast: () => this.binding.semPost(this.handle),
      permit: (_held, release) => this.leased(release),
    });
  }

  /**
   * Takes one now if the value is above zero: a {@link Permit} (released by `release()`), or
   * `null`. Never blocks.
   *
   * @example
   * ```ts
   * const permit = sem.tryAcquire();
   * if (permit) try { work(); } finally { permit.release(); }
   * ```
   * @throws {LockClosedError} `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  tryAcquire(): Permit | null {
    this.core.checkOpen('tryAcquire');
    if (!this.binding.semTryWait(this.handle)) return null;
    const tracked = this.core.track(() => this.binding.semPost(this.handle));
    const permit = this.leased(tracked.release);
    tracked.onAbort(() => permit.release());
    return permit;
  }

  /**
   * Takes one for good, the consumer side of {@link post}: emits once (`undefined`) and
   * completes when the value could be decremented. Nothing is given back afterwards; a
   * subscriber that leaves while waiting takes nothing (a decrement that raced with leaving
   * is posted back).
   *
   * @example
   * ```ts
   * await firstValueFrom(ready.wait()); // until another process posts
   * ```
   * @throws Nothing at call time; `ERR_RXIPC_LOCK_CLOSED` on the error channel after `close()`.
   */
  wait(): Observable<void> {
    return new Observable<void>((subscriber) =>
      this.core
        .acquire<Permit>({
          mode: 'consume',
          tryAcquire: () => this.binding.semTryWait(this.handle),
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
   * `sem_trywait`: takes one for good if the value is above zero.
   *
   * @throws {LockClosedError} `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  tryWait(): boolean {
    this.core.checkOpen('tryWait');
    return this.binding.semTryWait(this.handle);
  }

  /**
   * `sem_post`: adds one, waking one waiter anywhere.
   *
   * @throws A system error `EOVERFLOW` (syscall `'sem_post'`) at `SEM_VALUE_MAX`;
   * `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  post(): void {
    this.core.checkOpen('post');
    this.binding.semPost(this.handle);
  }

  /**
   * `sem_getvalue`: the value now (Linux says 0, never a negative count, while others wait).
   *
   * @throws {LockClosedError} `ERR_RXIPC_LOCK_CLOSED` after `close()`.
   */
  value(): number {
    this.core.checkOpen('value');
    return this.binding.semGetValue(this.handle);
  }

  /** Permits held and acquisitions pending in this process. */
  get active(): number {
    return this.core.activeCount;
  }

  /**
   * Releases every permit this object holds, errors pending acquisitions with
   * `ERR_RXIPC_LOCK_CLOSED`, and closes the handle. Idempotent.
   */
  close(): void {
    if (this.core.closed) return;
    this.core.close();
    liveSemaphores.delete(this.core);
    this.binding.semClose(this.handle);
  }

  /** A permit that, with leases on, is recorded until released. */
  private leased(release: () => void): Permit {
    if (this.leaseName === undefined) return new BasicPermit(release);
    const forget = registerNamedObject(
      { kind: SEMAPHORE_LEASE_KIND, name: `${this.leaseName}#${process.pid}.${++leaseSerial}` },
      // At a normal exit with the permit still held: release it (the registry's exit hook).
      () => permit.release(),
    );
    const permit = new BasicPermit(() => {
      forget();
      release();
    });
    return permit;
  }
}

/** A named POSIX semaphore (see {@link posixSemaphore}). */
export class PosixSemaphore extends Semaphore {
  private readonly forget: ((removeNow?: boolean) => void) | undefined;

  /** @internal Use {@link posixSemaphore}. */
  constructor(
    binding: Binding,
    handle: PosixSemHandle,
    /** The name, `/somename`. */
    readonly name: string,
    /** Whether this call created it. */
    readonly created: boolean,
    unlinkOnClose: boolean,
    leases: boolean,
  ) {
    super(binding, handle, `semaphore ${name}`, leases ? name : undefined);
    this.forget = unlinkOnClose
      ? registerNamedObject({ kind: 'posix-sem', name }, () => binding.semUnlink(name))
      : undefined;
  }

  /**
   * `sem_unlink`: removes the name now (processes that have it open keep using it).
   *
   * @throws A system error `ENOENT` (syscall `'sem_unlink'`) when the name is gone already.
   */
  unlink(): void {
    this.binding.semUnlink(this.name);
    this.forget?.();
  }

  /** Like {@link Semaphore.close}, and removes the name if this object is to (`unlinkOnClose`). */
  override close(): void {
    if (this.closed) return;
    super.close();
    this.forget?.(true);
  }
}

/** An unnamed process-shared semaphore in shared memory (see {@link sharedSemaphore}). */
export class SharedSemaphore extends Semaphore {
  /** @internal Use {@link sharedSemaphore}. */
  constructor(binding: Binding, handle: PosixSemHandle, offset: number) {
    super(binding, handle, `shared semaphore at offset ${offset}`);
  }

  /**
   * `sem_destroy`, then closes. Only once no process uses it any more (sem_destroy(3):
   * destroying a semaphore others are blocked on is undefined behaviour).
   *
   * @throws A system error from `sem_destroy`.
   */
  destroy(): void {
    if (this.closed) return;
    this.core.close();
    liveSemaphores.delete(this.core);
    this.binding.semDestroy(this.handle);
  }
}

/**
 * Opens (by default, creates) a named POSIX semaphore, at once.
 *
 * Created with mode `0o600` and `O_EXCL` unless asked otherwise, so a second program opens it
 * with `create: false` (or both pass `exclusive: false`). The creator removes the name on
 * `close()` and at normal exit; others never do unless `unlinkOnClose`. See the module comment
 * for what a killed holder leaves behind, and `leases` for the way back.
 *
 * @example
 * ```ts
 * const slots = posixSemaphore({ name: '/encoder-slots', initial: 2 });
 * jobs$.pipe(mergeMap((job) => withPermit(slots)(encode(job)))).subscribe();
 * // another process:
 * const same = posixSemaphore({ name: '/encoder-slots', create: false });
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for an `initial` that is negative, fractional or above
 * 2^31-1, or a bad `mode`.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a name not of the form `/somename`.
 * @throws A system error (syscall `'sem_open'`, `path` the name): `ENOENT` with
 * `create: false` and no such semaphore, `EEXIST` when it exists and `exclusive`, `EACCES`.
 */
export function posixSemaphore(config: PosixSemaphoreConfig): PosixSemaphore {
  const binding = config.binding ?? defaultBinding;
  const create = config.create ?? true;
  const exclusive = create && (config.exclusive ?? true);
  const mode = checkMode(config.mode, 0o600);
  const initial = checkInteger(config.initial ?? 1, 'initial', 0, SEM_VALUE_MAX);
  let handle: PosixSemHandle;
  let created = false;
  if (exclusive) {
    handle = binding.semOpen(config.name, { create: true, exclusive: true, mode, value: initial });
    created = true;
  } else if (create) {
    // Open-or-create cannot tell which happened; try to create first so that it can.
    try {
      handle = binding.semOpen(config.name, {
        create: true,
        exclusive: true,
        mode,
        value: initial,
      });
      created = true;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      handle = binding.semOpen(config.name, {});
    }
  } else {
    handle = binding.semOpen(config.name, {});
  }
  return new PosixSemaphore(
    binding,
    handle,
    config.name,
    created,
    config.unlinkOnClose ?? created,
    config.leases ?? false,
  );
}

/**
 * An unnamed process-shared POSIX semaphore inside a shared-memory segment (`sem_init` with
 * `pshared` 1): initialized by one process (`initial` given), attached by the others. Same API
 * as {@link posixSemaphore}, with `destroy()` instead of `unlink()`. The segment must stay
 * mapped while the semaphore is used; unmapping it closes the semaphore.
 *
 * @example
 * ```ts
 * const segment = memfdShm({ size: 4096 });
 * const sem = sharedSemaphore({ segment, offset: 0, initial: 1 });
 * // a child that inherited the memfd and mapped it: sharedSemaphore({ segment, offset: 0 })
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `initial`, or an `offset` that is not a
 * multiple of 8 inside the segment.
 * @throws A system error from `sem_init`.
 */
export function sharedSemaphore(config: SharedSemaphoreConfig): SharedSemaphore {
  const binding = config.binding ?? defaultBinding;
  const offset = checkInteger(config.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const handle =
    config.initial === undefined
      ? binding.semAttach(config.segment.mapping, offset)
      : binding.semInit(
          config.segment.mapping,
          offset,
          checkInteger(config.initial, 'initial', 0, SEM_VALUE_MAX),
        );
  return new SharedSemaphore(binding, handle, offset);
}

let leaseSerial = 0;
const liveSemaphores = new Set<LockCore>();
let exitHookInstalled = false;

// sem_overview(7): nothing gives back a count a process held when it ended. A normal exit
// with permits still held gives them back here; a killed process leaves them to the leases.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const core of liveSemaphores) core.releaseAll(new Error('the process is exiting'));
  });
}
