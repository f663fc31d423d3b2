/**
 * A mapped shared-memory segment as zero-copy memory: what {@link posixShm}, {@link sysvShm}
 * and {@link memfdShm} return. The bytes are the kernel's pages, shared with every process
 * that maps the same segment; nothing is copied in either direction.
 */
import type { Binding, ShmMappingHandle } from '@rxipc/native';

import { ShmClosedError } from './errors.js';

/**
 * Keeps a segment's mapping alive while its `ArrayBuffer` is reachable, even if the program
 * dropped the segment object: the garbage collector would otherwise finalize the mapping and
 * detach a buffer still in use.
 */
const owners = new WeakMap<ArrayBuffer, ShmMappingHandle>();

/** What every kind of segment offers. */
export interface ShmSegment {
  /** `'posix'`, `'sysv'` or `'memfd'`. */
  readonly kind: 'posix' | 'sysv' | 'memfd';
  /** Bytes mapped. */
  readonly size: number;
  /**
   * The memory, as an `ArrayBuffer` over the mapping: reads and writes go straight to the
   * shared pages. After {@link close} it is detached (`byteLength` 0), so no code can reach
   * unmapped memory. Use `Atomics` on an `Int32Array` over it for words other processes
   * update concurrently.
   */
  readonly buffer: ArrayBuffer;
  /** `new Uint8Array(buffer)`, made once. */
  readonly bytes: Uint8Array;
  /**
   * The native mapping, for native neighbours that place objects in the segment (unnamed
   * semaphores, robust mutexes; see `shm.h` in `@rxipc/native`) and for futex waiters.
   */
  readonly mapping: ShmMappingHandle;
  /** Whether this process created the segment (and so removes it on close, unless `persist`). */
  readonly created: boolean;
  /** Whether the segment is still mapped. */
  readonly closed: boolean;
  /**
   * Unmaps (detaching {@link buffer}) and, for a segment this process created without
   * `persist`, removes it. Idempotent.
   */
  close(): void;
}

/**
 * The shared part of the three segment kinds: the mapping, its buffer, and closing. Internal:
 * use the creation functions.
 */
export class MappedSegment implements ShmSegment {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly size: number;
  private isClosed = false;

  constructor(
    readonly kind: ShmSegment['kind'],
    readonly mapping: ShmMappingHandle,
    readonly created: boolean,
    protected readonly binding: Binding,
    private readonly onClose: () => void,
  ) {
    this.buffer = binding.shmBuffer(mapping);
    this.bytes = new Uint8Array(this.buffer);
    this.size = this.buffer.byteLength;
    owners.set(this.buffer, mapping);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Throws {@link ShmClosedError} once the segment is closed. */
  protected checkOpen(what: string): void {
    if (this.isClosed) throw new ShmClosedError(`${what} on a closed shared-memory segment`);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.binding.shmUnmap(this.mapping);
    } finally {
      this.onClose();
    }
  }
}
