/**
 * How each kind of named object is removed by name, for the janitor (`rxipc clean`), which
 * removes what a killed process left behind, and for `rxipc ls`, which tells whether the
 * object still exists. Each mechanism's remover lives here, next to the registry, so that
 * core needs no native details; a plugin that records its own kind of object registers its
 * remover with {@link registerRemover}.
 *
 * Names are what `registerNamedObject` recorded: a path (`fifo`, `unix-socket`), a POSIX
 * name `/name` (`posix-mq`, `posix-shm`, `posix-sem`), or for System V `id:N` (an identifier)
 * or `0x1234abcd` (a key).
 */
import { lstatSync, unlinkSync } from 'node:fs';

import { type FdHandle, native } from '@rxipc/native';

import { isSystemError } from '../errors.js';
import type { NamedObjectKind } from './named-objects.js';

/** What removing an object did. */
export type RemoveOutcome =
  /** It existed and is gone now. */
  | 'removed'
  /** It was gone already. */
  | 'missing';

/** The remover of one kind of named object. */
export interface NamedObjectRemover {
  /**
   * Removes the object named `name`. Returns `'missing'` when it does not exist; throws a
   * system error when it exists and cannot be removed (`EACCES`, `EPERM`), or a `TypeError`
   * `ERR_RXIPC_NOT_OURS` when something else of another type has taken the name.
   */
  remove(name: string): RemoveOutcome;
  /** Whether the object exists now (`undefined`: cannot tell). */
  exists?(name: string): boolean | undefined;
}

const removers = new Map<string, NamedObjectRemover>();

/**
 * Makes `kind` removable by the janitor. Registering a kind again replaces its remover.
 *
 * @example
 * ```ts
 * registerRemover('nats-stream', { remove: (name) => deleteStream(name) ? 'removed' : 'missing' });
 * ```
 */
export function registerRemover(kind: NamedObjectKind, remover: NamedObjectRemover): void {
  removers.set(kind, remover);
}

/** The remover of `kind`, or `undefined` when no mechanism registered one. */
export function removerFor(kind: NamedObjectKind): NamedObjectRemover | undefined {
  return removers.get(kind);
}

/** The kinds that have a remover. */
export function removableKinds(): string[] {
  return [...removers.keys()];
}

// ---- files: FIFOs and socket files ----------------------------------------------------------

function fileRemover(type: 'fifo' | 'socket'): NamedObjectRemover {
  const matches = (name: string): boolean | undefined => {
    try {
      const stat = lstatSync(name);
      return type === 'fifo' ? stat.isFIFO() : stat.isSocket();
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  };
  return {
    remove(name) {
      const kind = matches(name);
      if (kind === undefined) return 'missing';
      if (!kind) {
        throw Object.assign(new TypeError(`${name} is no longer a ${type}; it is left in place`), {
          code: 'ERR_RXIPC_NOT_OURS',
        });
      }
      try {
        unlinkSync(name);
        return 'removed';
      } catch (error) {
        if (isCode(error, 'ENOENT')) return 'missing';
        throw error;
      }
    },
    exists: (name) => matches(name) === true,
  };
}

// ---- POSIX names ----------------------------------------------------------------------------

function posixRemover(
  unlink: (name: string) => void,
  exists?: (name: string) => boolean | undefined,
): NamedObjectRemover {
  return {
    remove(name) {
      try {
        unlink(name);
        return 'removed';
      } catch (error) {
        if (isSystemError(error, 'ENOENT')) return 'missing';
        throw error;
      }
    },
    ...(exists !== undefined ? { exists } : {}),
  };
}

/** POSIX shared memory and named semaphores live in /dev/shm on Linux (glibc). */
function devShmExists(file: (name: string) => string): (name: string) => boolean | undefined {
  return (name) => {
    try {
      lstatSync(file(name));
      return true;
    } catch (error) {
      return isCode(error, 'ENOENT') ? false : undefined;
    }
  };
}

function mqExists(name: string): boolean | undefined {
  // /dev/mqueue is often not mounted: open the queue (without creating it) to find out.
  try {
    native.fdClose(callNative<FdHandle>('mqOpen', name, { read: true }));
    return true;
  } catch (error) {
    if (isSystemError(error, 'ENOENT')) return false;
    return isSystemError(error, 'EACCES') ? true : undefined;
  }
}

// ---- System V: `id:N` or a key --------------------------------------------------------------

interface SysvOps<H> {
  byId(id: number): H;
  byKey(key: number): H;
  remove(handle: H): void;
  close(handle: H): void;
}

function sysvRemover<H>(ops: () => SysvOps<H>): NamedObjectRemover {
  const find = (name: string): H | undefined => {
    const o = ops();
    const id = /^id:(\d+)$/.exec(name);
    const key = /^0x([0-9a-f]{1,8})$/i.exec(name);
    if (id === null && key === null) {
      throw Object.assign(new TypeError(`${name} is not a System V id:N or 0xKEY`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    try {
      return id !== null ? o.byId(Number(id[1])) : o.byKey(parseInt(key![1]!, 16));
    } catch (error) {
      if (isSystemError(error, 'ENOENT') || isSystemError(error, 'EINVAL')) return undefined;
      if (isSystemError(error, 'EIDRM')) return undefined;
      throw error;
    }
  };
  return {
    remove(name) {
      const handle = find(name);
      if (handle === undefined) return 'missing';
      const o = ops();
      try {
        o.remove(handle);
        return 'removed';
      } catch (error) {
        if (isSystemError(error, 'EINVAL') || isSystemError(error, 'EIDRM')) return 'missing';
        throw error;
      } finally {
        o.close(handle);
      }
    },
    exists(name) {
      const handle = find(name);
      if (handle === undefined) return false;
      ops().close(handle);
      return true;
    },
  };
}

function isCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}

/**
 * Calls a native function by name, or fails clearly when this build of the addon lacks it (a
 * mechanism still being written). Looked up at call time and typed loosely on purpose, so the
 * removers load with any addon and any `binding.ts`.
 */
function callNative<T = void>(name: string, ...args: unknown[]): T {
  const fn = (native as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`this build of the rxipc addon has no ${name}()`), {
      code: 'ERR_RXIPC_UNSUPPORTED',
    });
  }
  return (fn as (...a: unknown[]) => T).apply(native, args);
}

registerRemover('fifo', fileRemover('fifo'));
registerRemover('unix-socket', fileRemover('socket'));
registerRemover(
  'posix-mq',
  posixRemover((name) => callNative('mqUnlink', name), mqExists),
);
registerRemover(
  'posix-shm',
  posixRemover(
    (name) => callNative('shmUnlink', name),
    devShmExists((name) => `/dev/shm${name}`),
  ),
);
registerRemover(
  'posix-sem',
  posixRemover(
    (name) => callNative('semUnlink', name),
    devShmExists((name) => `/dev/shm/sem.${name.slice(1)}`),
  ),
);
registerRemover(
  'sysv-mq',
  sysvRemover(() => ({
    byId: (id) => callNative<unknown>('msgOpenId', id),
    byKey: (key) => callNative<unknown>('msgget', key),
    remove: (handle) => callNative('msgRmid', handle),
    close: (handle) => callNative('msgClose', handle),
  })),
);
registerRemover(
  'sysv-sem',
  sysvRemover(() => ({
    byId: (id) => callNative<unknown>('sysvSemOpenId', id),
    byKey: (key) => callNative<unknown>('sysvSemGet', key, 0),
    remove: (handle) => callNative('sysvSemRemove', handle),
    close: (handle) => callNative('sysvSemClose', handle),
  })),
);
registerRemover(
  'sysv-shm',
  sysvRemover(() => ({
    byId: (id) => callNative<unknown>('sysvShmOpenId', id),
    byKey: (key) => callNative<unknown>('sysvShmGet', key, 0),
    remove: (handle) => callNative('sysvShmRemove', handle),
    // A segment handle holds no descriptor and no thread; it is released by the collector.
    close: () => {},
  })),
);
