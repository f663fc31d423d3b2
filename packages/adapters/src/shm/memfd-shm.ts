/**
 * Anonymous shared memory (memfd_create(2)): a segment without a name, shared by handing its
 * descriptor to another process, and sealed so that nobody can shrink it under a mapping.
 */
import {
  type Binding,
  type FdHandle,
  native as defaultBinding,
  type ShmMappingHandle,
} from '@rxipc/native';

import { MappedSegment, type ShmSegment } from './segment.js';
import { checkSize } from './names.js';

/** Options for {@link memfdShm}. */
export interface MemfdShmOptions {
  /** Bytes. */
  readonly size: number;
  /** A label, shown as `memfd:<label>` in `/proc/<pid>/maps`. Default `'rxipc'`. */
  readonly label?: string;
  /**
   * Seal the segment once sized: `F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`, so its size is
   * fixed for every process and no mapping of it can ever raise `SIGBUS`. Default `true`.
   */
  readonly seal?: boolean;
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/** Options for {@link memfdShmFromFd}. */
export interface MemfdShmFromFdOptions {
  /**
   * Refuse (with `ERR_RXIPC_SHM_UNSEALED`) a descriptor whose size is not sealed against
   * shrinking: mapping it would let its owner kill this process with `SIGBUS`. Default `true`.
   */
  readonly requireSealed?: boolean;
  /** Map a private copy-on-write view: what this process writes stays its own. Default `false`. */
  readonly readOnly?: boolean;
  readonly binding?: Binding;
}

/** A memfd segment: a {@link ShmSegment} and the descriptor to share it by. */
export interface MemfdSegment extends ShmSegment {
  readonly kind: 'memfd';
  /**
   * The memfd, open until {@link ShmSegment.close}: pass it to a child (`spawn`'s `stdio`, as
   * `native.fdNumber(fd)`) or send it over a Unix socket (`SCM_RIGHTS`); the receiver maps it
   * with {@link memfdShmFromFd}.
   */
  readonly fd: FdHandle;
}

/** A descriptor that is not sealed against shrinking, refused by {@link memfdShmFromFd}. */
export class UnsealedSegmentError extends Error {
  override readonly name = 'UnsealedSegmentError';
  readonly code = 'ERR_RXIPC_SHM_UNSEALED';
}

/**
 * Creates an anonymous shared-memory segment with `memfd_create(2)`, sizes it, seals its size
 * (unless `seal: false`) and maps it. Share it by descriptor: the segment's `fd` is an
 * ordinary `FdHandle`, so a child can inherit it and a Unix socket can carry it; the other
 * side maps it with {@link memfdShmFromFd}. No name exists anywhere, so nothing can be left
 * behind: the memory goes when the last descriptor and mapping do.
 *
 * memfd_create(2): "the file descriptor returned ... behaves like a regular file, and so can
 * be modified, truncated, memory-mapped"; sealing (`F_SEAL_SHRINK`) is what stops a peer from
 * truncating it under our mapping.
 *
 * @example
 * ```ts
 * const segment = memfdShm({ size: 4096 });
 * const child = spawn(process.execPath, ['child.js'], {
 *   stdio: ['inherit', 'inherit', 'inherit', native.fdNumber(segment.fd)],
 * });
 * // child.js: const shared = memfdShmFromFd(3);
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a size that is not a positive integer.
 * @throws {SystemError} `EMFILE`, `ENOMEM`, `ENOSPC`.
 */
export function memfdShm(options: MemfdShmOptions): MemfdSegment {
  const binding = options.binding ?? defaultBinding;
  const size = checkSize(options.size, 'size');
  const fd = binding.memfdCreate(options.label ?? 'rxipc');
  try {
    binding.shmTruncate(fd, size);
    if (options.seal ?? true) binding.memfdAddSeals(fd, { shrink: true, grow: true, seal: true });
    return new MemfdSegmentImpl(fd, binding.shmMap(fd), true, binding);
  } catch (error) {
    binding.fdClose(fd);
    throw error;
  }
}

/**
 * Maps a memfd segment received from another process: an inherited descriptor number (`3`)
 * or an `FdHandle` (from a Unix socket's descriptor passing). The segment takes the
 * descriptor over and closes it on `close()`. By default the descriptor must be sealed against
 * shrinking, so that its owner cannot make our accesses fault.
 *
 * @example
 * ```ts
 * const shared = memfdShmFromFd(3);     // in a child that inherited the memfd as fd 3
 * console.log(shared.bytes[0]);
 * ```
 * @throws {UnsealedSegmentError} `ERR_RXIPC_SHM_UNSEALED` for an unsealed descriptor.
 * @throws {SystemError} `EBADF`, `EINVAL` (not a memfd), `ENODEV` (cannot be mapped).
 */
export function memfdShmFromFd(
  fd: FdHandle | number,
  options: MemfdShmFromFdOptions = {},
): MemfdSegment {
  const binding = options.binding ?? defaultBinding;
  const handle = typeof fd === 'number' ? binding.fdAdopt(fd, { restoreFlagsOnClose: false }) : fd;
  try {
    if (options.requireSealed ?? true) {
      const seals = binding.memfdGetSeals(handle);
      if (!seals.shrink) {
        throw new UnsealedSegmentError(
          `the memfd (fd ${binding.fdNumber(handle)}) is not sealed against shrinking; its owner could truncate it and make this process fail with SIGBUS. Seal it (memfdShm does) or pass requireSealed: false`,
        );
      }
    }
    const readOnly = options.readOnly ?? false;
    return new MemfdSegmentImpl(
      handle,
      binding.shmMap(handle, { writable: !readOnly }),
      false,
      binding,
    );
  } catch (error) {
    binding.fdClose(handle);
    throw error;
  }
}

class MemfdSegmentImpl extends MappedSegment implements MemfdSegment {
  declare readonly kind: 'memfd';

  constructor(
    readonly fd: FdHandle,
    mapping: ShmMappingHandle,
    created: boolean,
    binding: Binding,
  ) {
    super('memfd', mapping, created, binding, () => binding.fdClose(fd));
  }
}
