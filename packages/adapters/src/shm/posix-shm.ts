/**
 * POSIX shared-memory segments (shm_overview(7)): `shm_open` + `mmap`, as zero-copy memory.
 */
import { type Binding, native as defaultBinding, type ShmMappingHandle } from '@rxipc/native';

import { registerNamedObject } from '../registry/named-objects.js';
import { isSystemError } from '../errors.js';
import { MappedSegment, type ShmSegment } from './segment.js';
import { checkShmName, checkSize } from './names.js';

/** Options for {@link posixShm}. */
export interface PosixShmOptions {
  /** The segment's name: `/` and 1 to 254 more characters, none of them `/`. */
  readonly name: string;
  /**
   * Bytes. Needed to create; when attaching, maps only the first `size` bytes (the segment
   * must be at least that large). Default when attaching: the whole segment.
   */
  readonly size?: number;
  /** Create the segment. Default: `true` when `size` is given, else `false` (attach). */
  readonly create?: boolean;
  /**
   * With `create`: fail with `EEXIST` when a segment of that name exists (`O_EXCL`). With
   * `false`, an existing segment is attached instead. Default `true`.
   */
  readonly exclusive?: boolean;
  /** Permission bits of a new segment. Default `0o600`: this user only. */
  readonly mode?: number;
  /** Keep a segment this process created after `close()` and after exit. Default `false`. */
  readonly persist?: boolean;
  /**
   * Open the segment read-only (`O_RDONLY`) and map a private copy-on-write view: this
   * process sees the segment, and what it writes into `buffer` stays its own. (A truly
   * read-only mapping cannot be offered: JavaScript cannot be stopped from writing to an
   * `ArrayBuffer`, and such a write would kill the process.) Default `false`.
   */
  readonly readOnly?: boolean;
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/** A POSIX segment: a {@link ShmSegment} with its name. */
export interface PosixShmSegment extends ShmSegment {
  readonly kind: 'posix';
  readonly name: string;
}

/**
 * Creates or attaches a POSIX shared-memory segment and maps it, shared with every process
 * that maps the same name (Python's `multiprocessing.shared_memory`, C's `shm_open`).
 *
 * Creating: `O_CREAT | O_EXCL` with mode `0o600` unless told otherwise, sized with
 * `ftruncate` (new bytes are zero), recorded in the registry of named objects, and removed
 * (`shm_unlink`) by `close()` or at exit unless `persist`. Attaching: the size is read with
 * `fstat` right before mapping, and the mapping never reaches past it. Work happens at call
 * time, synchronously (these are not streams); `close()` unmaps and detaches `buffer`.
 *
 * Residual risk: a named POSIX segment cannot be sealed, so a process with write access that
 * shrinks it (`ftruncate`) after we mapped it makes the next access to the lost pages kill
 * this process with `SIGBUS`. Segments rxipc creates are `0o600` (this user only); for memory
 * shared with code you do not trust, use {@link memfdShm}, which is sealed against shrinking.
 *
 * @example
 * ```ts
 * const segment = posixShm({ name: '/frames', size: 1 << 20 });
 * segment.bytes.set(frame);            // visible at once to every process mapping /frames
 * segment.close();                     // unmaps and unlinks
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a malformed name or options.
 * @throws {SystemError} `EEXIST` (exclusive creation of an existing name), `ENOENT` (attaching
 * a missing one), `EACCES`, `EMFILE`, `ENOMEM`; `RangeError` `ERR_OUT_OF_RANGE` when the
 * segment is smaller than `size`.
 */
export function posixShm(options: PosixShmOptions): PosixShmSegment {
  const binding = options.binding ?? defaultBinding;
  const name = checkShmName(options.name);
  const size = options.size === undefined ? undefined : checkSize(options.size, 'size');
  const create = options.create ?? size !== undefined;
  if (create && size === undefined) {
    throw new TypeError(`posixShm: creating ${name} needs a size`);
  }
  const readOnly = options.readOnly ?? false;
  const mode = options.mode ?? 0o600;

  let created = false;
  let fd;
  try {
    fd = binding.shmOpen(name, { create, exclusive: true, mode, readOnly });
    created = create;
  } catch (error) {
    // O_EXCL first, so that `created` is known; a non-exclusive create falls back to attach.
    if (!(create && options.exclusive === false && isSystemError(error, 'EEXIST'))) throw error;
    fd = binding.shmOpen(name, { readOnly });
  }

  let release: ((removeNow?: boolean) => void) | undefined;
  try {
    if (created) {
      // Recorded first, so that a failure below (or a crash) still leaves a record to clean.
      release = registerNamedObject({ kind: 'posix-shm', name, mode }, () =>
        unlinkQuietly(binding, name),
      );
      binding.shmTruncate(fd, size!);
    }
    const mapping = binding.shmMap(fd, {
      writable: !readOnly,
      ...(size === undefined ? {} : { length: size }),
    });
    const persist = options.persist ?? false;
    return new PosixSegment(name, mapping, created, binding, () => {
      if (release !== undefined) release(!persist);
    });
  } catch (error) {
    release?.(true);
    throw error;
  } finally {
    // The mapping holds the memory; the descriptor is not needed any more (mmap(2): "closing
    // the file descriptor does not unmap the region").
    binding.fdClose(fd);
  }
}

class PosixSegment extends MappedSegment implements PosixShmSegment {
  declare readonly kind: 'posix';

  constructor(
    readonly name: string,
    mapping: ShmMappingHandle,
    created: boolean,
    binding: Binding,
    onClose: () => void,
  ) {
    super('posix', mapping, created, binding, onClose);
  }
}

/** `shm_unlink`, where a segment already gone is fine. */
export function unlinkQuietly(binding: Binding, name: string): void {
  try {
    binding.shmUnlink(name);
  } catch (error) {
    if (!isSystemError(error, 'ENOENT')) throw error;
  }
}
