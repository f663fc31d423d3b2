/**
 * Creating or joining a named POSIX segment that holds an rxipc structure (a ring, a shared
 * value): `O_EXCL` first so the caller knows whether it is the creator, and for a joiner, a
 * wait until the creator has sized and initialized it: asynchronous (timer re-checks), or for
 * an explicit synchronous call, at most a few milliseconds. Internal.
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
  /**
   * Aborting it stops a joiner's wait at once: the timer is cleared, what the join opened is
   * unmapped and closed, and the promise rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
  /** What the structure is called in messages (`'ring'`, `'shared value'`). */
  readonly what: string;
}

/** An opened segment: its mapping, and whether this process created it (still unready). */
export interface OpenedSegment {
  readonly mapping: ShmMappingHandle;
  readonly created: boolean;
}

/**
 * How often a joiner that waits asynchronously looks again: after 1 ms, then twice as long each
 * time up to this (a live creator finishes within microseconds of creating the name, so the
 * first re-check nearly always succeeds; a dead one costs a check every 16 ms until timeout).
 */
const MAX_RECHECK_MS = 16;

/** How long {@link openNamedSegmentSync} may block the event loop at most, in ms. */
export const SYNC_READY_WAIT_MS = 5;

/**
 * Opens the segment and maps all of it. A creator gets it sized and zeroed, and must set the
 * ready word itself once it has written the header. A joiner gets it once the ready word is 1.
 * `onCreated` runs right after a successful exclusive creation, before anything that can fail,
 * so that the caller can record the object (and remove it if the rest fails).
 *
 * Never blocks. The creator, and a joiner of a finished segment (the usual case), get the
 * segment synchronously. A joiner of a segment that its creator has not finished setting up
 * (still size 0, or READY still 0) gets a promise: it looks again on a timer (1 ms, doubling up
 * to 16 ms) until the segment is ready, or rejects with `ERR_RXIPC_SHM_LAYOUT` after
 * `readyTimeoutMs`. The timer keeps the event loop alive while it waits (at most
 * `readyTimeoutMs`), so that a program whose only work is this join does not exit half-way.
 * Aborting `options.signal` ends the wait at once (the timer is cleared, the mapping and the
 * descriptor are released) and the promise rejects with `signal.reason`.
 * The descriptor stays open while waiting, so the size seen is that of the segment named when
 * the call was made, even if the name is removed and reused meanwhile.
 *
 * (Not a futex on READY: the first thing a joiner may have to wait for is the size, which has
 * no word to wait on, a creator that died never wakes anyone, so a timer is needed anyway, and
 * a waiter thread per join costs more than the few timer ticks a live creator needs.)
 */
export function openNamedSegment(
  options: OpenNamedOptions,
  binding: Binding,
  onCreated: () => void,
): OpenedSegment | Promise<OpenedSegment> {
  const { fd, created } = openFd(options, binding);
  let waiting = false;
  try {
    if (created) {
      onCreated();
      binding.shmTruncate(fd, options.size);
      return { mapping: binding.shmMap(fd), created };
    }
    const join = new Join(fd, options, binding);
    const mapping = join.tryMap();
    if (mapping !== undefined) return { mapping, created };
    waiting = true;
    return join.wait().then((ready) => ({ mapping: ready, created }));
  } finally {
    if (!waiting) binding.fdClose(fd);
  }
}

/**
 * {@link openNamedSegment} for an explicit synchronous user call (`sharedValue()`): a joiner
 * of an unfinished segment polls it for at most `min(readyTimeoutMs, SYNC_READY_WAIT_MS)`
 * (5 ms, sleeping 50 us at a time), then throws `ERR_RXIPC_SHM_LAYOUT`. A live creator
 * finishes within microseconds of creating the name, so this only fails for a dead creator
 * (or one that was preempted for milliseconds: calling again then succeeds).
 */
export function openNamedSegmentSync(
  options: OpenNamedOptions,
  binding: Binding,
  onCreated: () => void,
): OpenedSegment {
  const { fd, created } = openFd(options, binding);
  try {
    if (created) {
      onCreated();
      binding.shmTruncate(fd, options.size);
      return { mapping: binding.shmMap(fd), created };
    }
    const join = new Join(fd, options, binding);
    const waitMs = Math.min(options.readyTimeoutMs, SYNC_READY_WAIT_MS);
    const deadline = performance.now() + waitMs;
    for (;;) {
      const mapping = join.tryMap();
      if (mapping !== undefined) return { mapping, created };
      if (performance.now() >= deadline) throw join.notReady(waitMs);
      sleep(0.05);
    }
  } finally {
    binding.fdClose(fd);
  }
}

function openFd(options: OpenNamedOptions, binding: Binding): { fd: FdHandle; created: boolean } {
  const { name } = options;
  if (options.create !== 'never') {
    try {
      return {
        fd: binding.shmOpen(name, { create: true, exclusive: true, mode: options.mode }),
        created: true,
      };
    } catch (error) {
      if (options.create === 'always' || !isSystemError(error, 'EEXIST')) throw error;
    }
  }
  return { fd: binding.shmOpen(name), created: false };
}

/** A joiner's view of a segment that may not be finished yet. Owns `fd` only in `wait`. */
class Join {
  private mapping: ShmMappingHandle | undefined;
  private i32: Int32Array | undefined;

  constructor(
    private readonly fd: FdHandle,
    private readonly options: OpenNamedOptions,
    private readonly binding: Binding,
  ) {}

  /** The mapping if the segment is ready now; `undefined` if not yet. Never waits. */
  tryMap(): ShmMappingHandle | undefined {
    const { binding, options } = this;
    if (this.mapping === undefined) {
      // The creator sizes the segment with one ftruncate, so once it has at least the
      // smallest size, that is its final size.
      if (binding.shmSize(this.fd) < options.minSize) return undefined;
      this.mapping = binding.shmMap(this.fd);
      this.i32 = new Int32Array(binding.shmBuffer(this.mapping));
    }
    if (Atomics.load(this.i32!, options.readyOffset >> 2) !== 1) return undefined;
    const mapping = this.mapping;
    this.mapping = undefined;
    this.i32 = undefined;
    return mapping;
  }

  /**
   * Re-checks on a timer until ready, `readyTimeoutMs`, or `options.signal` aborts; closes `fd`
   * in the end.
   */
  async wait(): Promise<ShmMappingHandle> {
    const { options } = this;
    const { signal } = options;
    const deadline = performance.now() + options.readyTimeoutMs;
    let delay = 1;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const left = deadline - performance.now();
        if (left <= 0) throw this.notReady(options.readyTimeoutMs);
        await pause(Math.min(delay, Math.ceil(left)), signal);
        delay = Math.min(delay * 2, MAX_RECHECK_MS);
        const mapping = this.tryMap();
        if (mapping !== undefined) return mapping;
      }
    } catch (error) {
      this.release();
      throw error;
    } finally {
      this.binding.fdClose(this.fd);
    }
  }

  /** The error for a segment still unfinished after `waitedMs`; unmaps what was mapped. */
  notReady(waitedMs: number): ShmLayoutError {
    const { name, what } = this.options;
    const sized = this.mapping !== undefined;
    const size = sized ? 0 : this.binding.shmSize(this.fd);
    this.release();
    return new ShmLayoutError(
      sized
        ? `${name} was not marked ready within ${waitedMs} ms: not an rxipc ${what}, or a stale one whose creator died while setting it up (remove it with rxipc clean, or shm_unlink ${name}, and open again)`
        : `${name} still had ${size} bytes after ${waitedMs} ms, too few for an rxipc ${what}: its creator died before setting it up, or it is something else (remove a stale one with rxipc clean, or shm_unlink ${name}, and open again)`,
    );
  }

  private release(): void {
    if (this.mapping !== undefined) this.binding.shmUnmap(this.mapping);
    this.mapping = undefined;
    this.i32 = undefined;
  }
}

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` as soon as `signal` aborts
 * (clearing the timer, so that nothing of the wait is left on the event loop).
 */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal === undefined) {
      setTimeout(resolve, ms);
      return;
    }
    const aborted = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** Blocks this thread for `ms` milliseconds (only while a peer finishes creating a segment). */
export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
