/**
 * System V shared-memory segments (sysvipc(7)): `shmget` + `shmat`, as zero-copy memory.
 */
import {
  type Binding,
  native as defaultBinding,
  type ShmMappingHandle,
  type SysvShmHandle,
  type SysvShmStat,
} from '@rxipc/native';

import { isSystemError } from '../errors.js';
import { registerNamedObject } from '../registry/named-objects.js';
import { MappedSegment, type ShmSegment } from './segment.js';
import { checkSize } from './names.js';

/** Options for {@link sysvShm}. */
export interface SysvShmOptions {
  /**
   * The key (1 .. 0xffffffff, for example from `ftok`). Omitted with `create`: a private
   * segment (`IPC_PRIVATE`), shared by its `id`.
   */
  readonly key?: number;
  /** Attach the segment with this id (from a peer, or `ipcs -m`) instead of looking up a key. */
  readonly id?: number;
  /** Bytes. Needed to create. */
  readonly size?: number;
  /** Create the segment. Default: `true` when `size` is given and `id` is not. */
  readonly create?: boolean;
  /** With `create`: `EEXIST` when the key exists (`IPC_EXCL`). Default `true`. */
  readonly exclusive?: boolean;
  /** Permission bits of a new segment. Default `0o600`. */
  readonly mode?: number;
  /**
   * Mark the segment for removal (`IPC_RMID`) as soon as this many processes are attached
   * (each party checks right after attaching). From then on it disappears when the last
   * process detaches, even if every one of them crashes: nothing can be left behind.
   */
  readonly parties?: number;
  /** Keep a segment this process created after `close()` (no `IPC_RMID`). Default `false`. */
  readonly persist?: boolean;
  readonly binding?: Binding;
}

/** A System V segment: a {@link ShmSegment} with its id and control operations. */
export interface SysvShmSegment extends ShmSegment {
  readonly kind: 'sysv';
  /** The segment's id, as `ipcs -m` shows it; another process attaches with `{ id }`. */
  readonly id: number;
  /** `shmctl(IPC_STAT)`: size, number of attaches, whether it is marked for removal. */
  stat(): SysvShmStat;
  /** `shmctl(IPC_RMID)`: it goes away when the last process detaches. Idempotent. */
  markForRemoval(): void;
}

/**
 * Creates or attaches a System V shared-memory segment (`shmget` + `shmat`), shared with
 * every process that attaches the same key or id.
 *
 * Creating uses `IPC_CREAT | IPC_EXCL` and mode `0o600` unless told otherwise, and records
 * the segment in the registry of named objects. System V segments outlive every process
 * until removed; rxipc removes one it created on `close()` (unless `persist`), and with
 * `parties` marks it for removal as soon as everyone has attached, which is the only way to
 * be sure it cannot leak when processes crash. The size is fixed at creation, so a mapping
 * can never raise `SIGBUS`.
 *
 * @example
 * ```ts
 * const segment = sysvShm({ size: 65536, parties: 2 }); // IPC_PRIVATE
 * spawn(process.execPath, ['child.js', String(segment.id)]);
 * // child.js: sysvShm({ id: Number(process.argv[2]), parties: 2 })
 * ```
 * @throws {TypeError} for contradictory options (neither key nor id, and no create).
 * @throws {SystemError} `ENOENT`, `EEXIST`, `EINVAL` (size), `ENOSPC` (`shmmni`/`shmall`),
 * `EACCES`, `EIDRM`.
 */
export function sysvShm(options: SysvShmOptions): SysvShmSegment {
  const binding = options.binding ?? defaultBinding;
  const size = options.size === undefined ? undefined : checkSize(options.size, 'size');
  const create = options.create ?? (size !== undefined && options.id === undefined);
  let handle: SysvShmHandle;
  let created = false;
  if (options.id !== undefined) {
    handle = binding.sysvShmOpenId(options.id);
  } else if (create) {
    if (size === undefined) throw new TypeError('sysvShm: creating a segment needs a size');
    handle = binding.sysvShmGet(options.key ?? 0, size, {
      create: true,
      exclusive: options.exclusive ?? true,
      mode: options.mode ?? 0o600,
    });
    created = true;
  } else if (options.key !== undefined) {
    handle = binding.sysvShmGet(options.key, 0);
  } else {
    throw new TypeError('sysvShm: give a key or an id to attach, or a size to create');
  }

  const id = binding.sysvShmId(handle);
  const markForRemoval = (): void => {
    try {
      binding.sysvShmRemove(handle);
    } catch (error) {
      // Removed already (by a party, or `ipcrm`): what we wanted.
      if (!isSystemError(error, 'EINVAL') && !isSystemError(error, 'EIDRM')) throw error;
    }
  };
  const release = created
    ? registerNamedObject(
        { kind: 'sysv-shm', name: `id:${id}`, mode: options.mode ?? 0o600 },
        markForRemoval,
      )
    : undefined;
  try {
    const mapping = binding.sysvShmAttach(handle);
    const segment = new SysvSegment(id, handle, mapping, created, binding, markForRemoval, () => {
      // After the mapping is gone: IPC_RMID on a segment we created, unless persist.
      if (release !== undefined) release(!(options.persist ?? false));
    });
    if (options.parties !== undefined && segment.stat().attachments >= options.parties) {
      segment.markForRemoval();
      release?.(false);
    }
    return segment;
  } catch (error) {
    release?.(true);
    throw error;
  }
}

class SysvSegment extends MappedSegment implements SysvShmSegment {
  declare readonly kind: 'sysv';

  constructor(
    readonly id: number,
    private readonly handle: SysvShmHandle,
    mapping: ShmMappingHandle,
    created: boolean,
    binding: Binding,
    private readonly remove: () => void,
    onClose: () => void,
  ) {
    super('sysv', mapping, created, binding, onClose);
  }

  stat(): SysvShmStat {
    return this.binding.sysvShmStat(this.handle);
  }

  markForRemoval(): void {
    this.remove();
  }
}
