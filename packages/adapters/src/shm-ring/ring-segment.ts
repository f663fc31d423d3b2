/**
 * Creating and joining a ring segment (see layout.ts): who creates it, how the two parties
 * claim their sides, and when the name goes away. Internal to the `shm:` adapter.
 */
import type { Binding, ShmMappingHandle } from '@rxipc/native';

import { isAlive, registerNamedObject, startTimeOf } from '../registry/named-objects.js';
import { RingBusyError, ShmLayoutError } from '../shm/errors.js';
import { openNamedSegment, type OpenedSegment } from '../shm/open-named.js';
import { unlinkQuietly } from '../shm/posix-shm.js';
import {
  DATA_OFFSET,
  DEFAULT_SLOT_SIZE,
  DEFAULT_SLOTS,
  HEADER,
  MAGIC,
  recordSize,
  ringGeometry,
  type RingGeometry,
  SIDE,
  SIDE_STATE,
  sideOffset,
  VERSION,
} from './layout.js';

/** How to reach a ring segment. */
export interface RingSegmentOptions {
  readonly name: string;
  /** Given explicitly (else the default applies when creating, and anything when joining). */
  readonly slots?: number;
  readonly slotSize?: number;
  /** `'auto'`: create unless it exists; `'never'`: join only; `'always'`: create only. */
  readonly create: 'auto' | 'never' | 'always';
  readonly mode: number;
  /**
   * Milliseconds a joiner waits (asynchronously) for a segment another process is still
   * setting up, before it fails with `ERR_RXIPC_SHM_LAYOUT`.
   */
  readonly readyTimeoutMs: number;
  /**
   * Aborting it stops a joiner's wait at once: nothing the join opened stays open, and the
   * promise rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
}

/** What a peer's side of the ring looks like now. */
export type PeerStatus = 'absent' | 'alive' | 'left' | 'dead';

/** A ring segment mapped by this process, with one side claimed. */
export interface RingSegment {
  readonly name: string;
  readonly mapping: ShmMappingHandle;
  readonly buffer: ArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly geometry: RingGeometry;
  /** The side this process claimed (0 or 1): it writes ring `side` and reads ring `1 - side`. */
  readonly side: number;
  /** Whether this process created the segment. */
  readonly created: boolean;
  /** The peer's pid, once it has attached. */
  peerPid(): number;
  /** Whether the peer is there, alive, gone after closing, or dead without closing. */
  peerStatus(): PeerStatus;
  /** The peer's STATE word (cheap: no /proc read). */
  peerState(): number;
  /** Marks this side LEFT: the peer's sends fail with EPIPE from now on. Idempotent. */
  leave(): void;
  /**
   * Leaves (if not done), removes the name if this process created it and nobody has removed
   * it yet, and unmaps. The caller has stored CLOSED on its ring and woken its peer first.
   * Idempotent.
   */
  close(): void;
}

let ownStartTime: number | undefined;

/**
 * Creates or joins the ring segment `options.name` and claims a free side.
 *
 * Never blocks the event loop. Creating is synchronous (the creator writes the header and sets
 * READY in one go), and so is joining a finished segment, the usual case. Joining a segment
 * whose creator has created the name but not yet sized it or set READY returns a promise: the
 * joiner looks again on a timer (1 ms, doubling up to 16 ms; see `openNamedSegment`) and
 * rejects with `ERR_RXIPC_SHM_LAYOUT` after `readyTimeoutMs` (a creator that died while
 * setting the segment up). The side is claimed only once the segment is ready, so a joiner
 * that gives up leaves nothing behind (the half-made name is the dead creator's: `rxipc clean`
 * removes it).
 */
export function openRingSegment(
  options: RingSegmentOptions,
  binding: Binding,
): RingSegment | Promise<RingSegment> {
  const { name } = options;
  const geometry = ringGeometry(
    options.slots ?? DEFAULT_SLOTS,
    options.slotSize ?? DEFAULT_SLOT_SIZE,
  );
  // The remover unlinks only while the name is still this ring's (the UNLINKED word), so that a
  // late exit hook never removes a newer segment that reuses the name.
  let words: Int32Array | undefined;
  let release: ((removeNow?: boolean) => void) | undefined;
  const failed = (error: unknown, mapping: ShmMappingHandle | undefined): never => {
    if (mapping !== undefined) binding.shmUnmap(mapping);
    if (release !== undefined) {
      // Unmapped above: remove the name directly (it is ours, we created it just now).
      release();
      unlinkQuietly(binding, name);
    }
    throw error;
  };
  const setUp = (opened: OpenedSegment): RingSegment => {
    const { mapping } = opened;
    try {
      const buffer = binding.shmBuffer(mapping);
      const i32 = new Int32Array(buffer);
      words = i32;
      if (opened.created) {
        i32[HEADER.VERSION >> 2] = VERSION;
        i32[HEADER.CAPACITY >> 2] = geometry.capacity;
        i32[HEADER.MAX_MESSAGE >> 2] = geometry.slotSize;
        i32[HEADER.SLOTS >> 2] = geometry.slots;
        i32[HEADER.DATA_OFFSET >> 2] = DATA_OFFSET;
        Atomics.store(i32, HEADER.MAGIC >> 2, MAGIC);
        Atomics.store(i32, HEADER.READY >> 2, 1);
        return claim(name, mapping, buffer, geometry, true, binding, release);
      }
      return claim(
        name,
        mapping,
        buffer,
        readGeometry(name, buffer, options),
        false,
        binding,
        undefined,
      );
    } catch (error) {
      return failed(error, mapping);
    }
  };
  let opened: OpenedSegment | Promise<OpenedSegment>;
  try {
    opened = openNamedSegment(
      {
        name,
        create: options.create,
        mode: options.mode,
        size: geometry.totalSize,
        minSize: DATA_OFFSET,
        readyOffset: HEADER.READY,
        readyTimeoutMs: options.readyTimeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        what: 'ring',
      },
      binding,
      () => {
        release = registerNamedObject({ kind: 'posix-shm', name, mode: options.mode }, () => {
          if (words === undefined || words.length === 0) return;
          if (Atomics.compareExchange(words, HEADER.UNLINKED >> 2, 0, 1) === 0) {
            unlinkQuietly(binding, name);
          }
        });
      },
    );
  } catch (error) {
    return failed(error, undefined);
  }
  if (!(opened instanceof Promise)) return setUp(opened);
  // Only a joiner waits, and a joiner has registered nothing: a failed wait has nothing to undo.
  // A wait that succeeded just before `signal` aborted claims no side either.
  return opened.then((ready) => {
    if (options.signal?.aborted === true) failed(options.signal.reason, ready.mapping);
    return setUp(ready);
  });
}

function readGeometry(
  name: string,
  buffer: ArrayBuffer,
  options: RingSegmentOptions,
): RingGeometry {
  const i32 = new Int32Array(buffer);
  const word = (offset: number): number => Atomics.load(i32, offset >> 2);
  if (word(HEADER.MAGIC) !== MAGIC || word(HEADER.VERSION) !== VERSION) {
    throw new ShmLayoutError(
      `${name} is not an rxipc ring of version ${VERSION} (magic 0x${(word(HEADER.MAGIC) >>> 0).toString(16)}, version ${word(HEADER.VERSION)})`,
    );
  }
  const slots = word(HEADER.SLOTS);
  const slotSize = word(HEADER.MAX_MESSAGE);
  let geometry: RingGeometry;
  try {
    geometry = ringGeometry(slots, slotSize);
  } catch {
    throw new ShmLayoutError(`${name} claims an impossible geometry (${slots} x ${slotSize})`);
  }
  if (
    geometry.capacity !== word(HEADER.CAPACITY) ||
    word(HEADER.DATA_OFFSET) !== DATA_OFFSET ||
    geometry.totalSize !== buffer.byteLength ||
    recordSize(slotSize) > geometry.capacity
  ) {
    throw new ShmLayoutError(
      `${name}'s header (${slots} slots of ${slotSize} bytes, capacity ${word(HEADER.CAPACITY)}) does not match its size of ${buffer.byteLength} bytes`,
    );
  }
  const mismatch = [
    options.slots !== undefined && options.slots !== slots ? `slots=${slots}` : '',
    options.slotSize !== undefined && options.slotSize !== slotSize ? `slotSize=${slotSize}` : '',
  ].filter((text) => text !== '');
  if (mismatch.length > 0) {
    throw new ShmLayoutError(
      `${name} exists with ${mismatch.join(' and ')}, not what this endpoint asks for; use the same options on both sides, or leave them out when joining`,
    );
  }
  return geometry;
}

function claim(
  name: string,
  mapping: ShmMappingHandle,
  buffer: ArrayBuffer,
  geometry: RingGeometry,
  created: boolean,
  binding: Binding,
  release: ((removeNow?: boolean) => void) | undefined,
): RingSegment {
  const i32 = new Int32Array(buffer);
  const u8 = new Uint8Array(buffer);
  const stateIndex = (side: number): number => (sideOffset(side) + SIDE.STATE) >> 2;
  let side = -1;
  for (const candidate of [0, 1]) {
    if (
      Atomics.compareExchange(i32, stateIndex(candidate), SIDE_STATE.FREE, SIDE_STATE.CLAIMING) ===
      SIDE_STATE.FREE
    ) {
      side = candidate;
      break;
    }
  }
  if (side === -1) {
    throw new RingBusyError(
      `${name} already has two parties; a ring connects exactly two (open another ring for a third)`,
    );
  }
  ownStartTime ??= startTimeOf(process.pid) ?? 0;
  const base = sideOffset(side) >> 2;
  Atomics.store(i32, base + (SIDE.PID >> 2), process.pid);
  Atomics.store(i32, base + (SIDE.START_LO >> 2), (ownStartTime % 2 ** 32) | 0);
  Atomics.store(i32, base + (SIDE.START_HI >> 2), Math.floor(ownStartTime / 2 ** 32));
  Atomics.store(i32, stateIndex(side), SIDE_STATE.ATTACHED);

  const peer = 1 - side;
  const unlinkOnce = (): void => {
    if (Atomics.compareExchange(i32, HEADER.UNLINKED >> 2, 0, 1) === 0)
      unlinkQuietly(binding, name);
  };
  // Both parties are in: the name has done its job. Removing it now means that nothing is
  // left behind however the two processes end (the memory goes with the last mapping).
  if (Atomics.load(i32, stateIndex(peer)) !== SIDE_STATE.FREE) unlinkOnce();

  let closed = false;
  return {
    name,
    mapping,
    buffer,
    i32,
    u8,
    geometry,
    side,
    created,
    peerPid: () => Atomics.load(i32, (sideOffset(peer) + SIDE.PID) >> 2),
    peerState: () => Atomics.load(i32, stateIndex(peer)),
    peerStatus(): PeerStatus {
      const state = Atomics.load(i32, stateIndex(peer));
      if (state === SIDE_STATE.FREE) return 'absent';
      if (state === SIDE_STATE.LEFT) return 'left';
      if (state === SIDE_STATE.CLAIMING) return 'alive';
      const peerBase = sideOffset(peer) >> 2;
      const pid = Atomics.load(i32, peerBase + (SIDE.PID >> 2));
      const start =
        (Atomics.load(i32, peerBase + (SIDE.START_LO >> 2)) >>> 0) +
        (Atomics.load(i32, peerBase + (SIDE.START_HI >> 2)) >>> 0) * 2 ** 32;
      return isAlive(pid, start) ? 'alive' : 'dead';
    },
    leave() {
      if (!closed) Atomics.store(i32, stateIndex(side), SIDE_STATE.LEFT);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        Atomics.store(i32, stateIndex(side), SIDE_STATE.LEFT);
        // The creator removes the name when it leaves, if the second party has not already
        // (shm_overview(7): the segment itself lives on while anyone maps it).
        release?.(true);
      } finally {
        binding.shmUnmap(mapping);
      }
    },
  };
}
