/**
 * Creating or joining a named POSIX segment that holds an rxipc structure (a ring, a shared
 * value): `O_EXCL` first so the caller knows whether it is the creator, and for a joiner, a
 * short wait until the creator has sized and initialized it. Internal.
 */
import type { Binding, FdHandle, ShmMappingHandle } from '@rxipc/native';

import { isSystemError } from '../errors.js';
import { ShmLayoutError } from './errors.js';

/** How to open the segment. */
export interface OpenNamedOptions {
  readonly name: string;
  /** `'auto'`: create unless it exists; `'never'`: join only; `'always'`: create only. */
  readonly create: 'auto' | 'never' | 'always';
  readonly mode: number;
  /** Bytes a new segment gets. */
  readonly size: number;
  /** The smallest size a finished segment of this kind has. */
  readonly minSize: number;
  /** Byte offset of the 32-bit word the creator sets to 1 when it has finished. */
  readonly readyOffset: number;
  /** How long a joiner waits for an unfinished segment, in ms. */
  readonly readyTimeoutMs: number;
  /** What the structure is called in messages (`'ring'`, `'shared value'`). */
  readonly what: string;
}

/** An opened segment: its mapping, and whether this process created it (still unready). */
export interface OpenedSegment {
  readonly mapping: ShmMappingHandle;
  readonly created: boolean;
}

/**
 * Opens the segment and maps all of it. A creator gets it sized and zeroed, and must set the
 * ready word itself once it has written the header. A joiner gets it once the ready word is 1.
 * `onCreated` runs right after a successful exclusive creation, before anything that can fail,
 * so that the caller can record the object (and remove it if the rest fails).
 */
export function openNamedSegment(
  options: OpenNamedOptions,
  binding: Binding,
  onCreated: () => void,
): OpenedSegment {
  const { name } = options;
  let fd: FdHandle | undefined;
  let created = false;
  if (options.create !== 'never') {
    try {
      fd = binding.shmOpen(name, { create: true, exclusive: true, mode: options.mode });
      created = true;
    } catch (error) {
      if (options.create === 'always' || !isSystemError(error, 'EEXIST')) throw error;
    }
  }
  fd ??= binding.shmOpen(name);
  try {
    if (created) {
      onCreated();
      binding.shmTruncate(fd, options.size);
      return { mapping: binding.shmMap(fd), created };
    }
    return { mapping: mapWhenReady(fd, options, binding), created };
  } finally {
    binding.fdClose(fd);
  }
}

function mapWhenReady(fd: FdHandle, options: OpenNamedOptions, binding: Binding): ShmMappingHandle {
  const deadline = Date.now() + options.readyTimeoutMs;
  // The creator sizes the segment with one ftruncate, so once it has at least the smallest
  // size, that is its final size.
  while (binding.shmSize(fd) < options.minSize) {
    if (Date.now() >= deadline) {
      throw new ShmLayoutError(
        `${options.name} has ${binding.shmSize(fd)} bytes, too few for an rxipc ${options.what}: its creator never finished setting it up, or it is something else (remove a stale one with rxipc clean)`,
      );
    }
    sleep(1);
  }
  const mapping = binding.shmMap(fd);
  const i32 = new Int32Array(binding.shmBuffer(mapping));
  while (Atomics.load(i32, options.readyOffset >> 2) !== 1) {
    if (Date.now() >= deadline) {
      binding.shmUnmap(mapping);
      throw new ShmLayoutError(
        `${options.name} was never marked ready: not an rxipc ${options.what}, or a stale one whose creator died while setting it up (remove it with rxipc clean)`,
      );
    }
    sleep(1);
  }
  return mapping;
}

/** Blocks this thread for `ms` milliseconds (only while a peer finishes creating a segment). */
export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
