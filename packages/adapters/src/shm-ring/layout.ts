/**
 * The memory layout of a shared-memory ring segment, word by word. C programs (the bench's
 * `shm_ring.c`) and other languages can speak the same protocol: everything below is
 * little-endian 32-bit words at fixed byte offsets.
 *
 * ```
 * 0      header   MAGIC 'RXRG', VERSION, CAPACITY, MAX_MESSAGE, SLOTS, DATA_OFFSET,
 *                 UNLINKED (0/1: the name is gone), READY (0/1: the creator has finished)
 * 64     side 0   PID, START_LO, START_HI (the pid's start time in clock ticks, to tell a
 *                 reused pid), STATE (FREE, CLAIMING, ATTACHED, LEFT), CPU (advisory: 1 +
 *                 the CPU the side's reader last went to sleep on; 0 unknown)
 * 128    side 1   the same
 * 512    ring 0   (side 0 writes, side 1 reads), each field on its own 64-byte line:
 *                 +0 HEAD and +4 CLOSED (the writer's), +64 TAIL (the reader's),
 *                 +128 READER_SLEEPING, +192 WRITER_SLEEPING (futex words)
 * 1024   ring 1   (side 1 writes, side 0 reads)
 * 4096   data of ring 0, CAPACITY bytes; then the data of ring 1
 * ```
 *
 * HEAD and TAIL are byte positions modulo 2 x CAPACITY (so that a full ring, HEAD - TAIL =
 * CAPACITY, differs from an empty one); the index into the data is the position modulo
 * CAPACITY. A record is a 32-bit length, the payload, and padding to a multiple of 8. A
 * record never wraps: when it does not fit before the end of the data, the writer puts the
 * length WRAP (0xffffffff) there and starts the record at index 0, in the same publication.
 *
 * The protocol (single producer, single consumer per ring):
 * - The writer fills records beyond HEAD, then publishes them with one atomic store of HEAD.
 *   It reads TAIL to learn the free space. The reader copies (or borrows) records between
 *   TAIL and HEAD, then stores TAIL. Nobody else writes these words.
 * - Sleeping (futex(2)): a reader that finds the ring empty stores READER_SLEEPING = 1,
 *   checks HEAD again, and sleeps on the word while it is 1. A writer that published checks
 *   READER_SLEEPING and, only if it is 1, exchanges it to 0 and calls FUTEX_WAKE. With both
 *   sides' store-then-load being sequentially consistent, either the reader sees the new
 *   HEAD or the writer sees the flag: no wake-up is lost, and a writer whose reader is awake
 *   makes no system call. A writer waiting for space does the same with WRITER_SLEEPING and
 *   TAIL.
 * - When to wake (a policy, not part of the protocol): a writer may delay FUTEX_WAKE while
 *   its sleeping reader shares its CPU (the reader could not run before the writer yields
 *   anyway), and should wake it at once when the reader's CPU word names another CPU.
 * - CLOSED = 1: the writer sent everything it will (end of stream once the ring is empty).
 * - A side that leaves stores CLOSED on its ring and STATE = LEFT. A side that dies leaves
 *   STATE = ATTACHED with a dead pid: its peer finds that out (kill(pid, 0) and the start
 *   time) while waiting, and ends its stream with an error instead of waiting forever.
 */

/** 'RXRG' read as a little-endian 32-bit word. */
export const MAGIC = 0x47525852;
export const VERSION = 1;

/** Byte offsets of the header words. */
export const HEADER = {
  MAGIC: 0,
  VERSION: 4,
  CAPACITY: 8,
  MAX_MESSAGE: 12,
  SLOTS: 16,
  DATA_OFFSET: 20,
  UNLINKED: 24,
  READY: 28,
} as const;

/** Byte offset of side `s`'s words. */
export function sideOffset(side: number): number {
  return 64 + 64 * side;
}
export const SIDE = { PID: 0, START_LO: 4, START_HI: 8, STATE: 12, CPU: 16 } as const;

/** Values of a side's STATE word. */
export const SIDE_STATE = { FREE: 0, CLAIMING: 1, ATTACHED: 2, LEFT: 3 } as const;

/** Byte offset of ring `r`'s control words (ring `r` is written by side `r`). */
export function ringOffset(ring: number): number {
  return 512 + 512 * ring;
}
export const RING = {
  HEAD: 0,
  CLOSED: 4,
  TAIL: 64,
  READER_SLEEPING: 128,
  WRITER_SLEEPING: 192,
} as const;

/** Where the data begins: one page of header. */
export const DATA_OFFSET = 4096;

/** A record's length word that means "the next record starts at index 0". */
export const WRAP = -1;

/** Default geometry: 64 slots of 64 KiB. */
export const DEFAULT_SLOTS = 64;
export const DEFAULT_SLOT_SIZE = 65536;

/** The largest data area per direction: positions modulo 2 x CAPACITY fit in an int32. */
export const MAX_CAPACITY = 2 ** 30;

/** Bytes a record of `length` payload bytes takes: the length word, the payload, padding. */
export function recordSize(length: number): number {
  return (length + 4 + 7) & ~7;
}

/** A ring's dimensions. */
export interface RingGeometry {
  readonly slots: number;
  readonly slotSize: number;
  /** Data bytes per direction. */
  readonly capacity: number;
  /** The whole segment: header page and both data areas. */
  readonly totalSize: number;
}

/**
 * The geometry for `slots` messages of up to `slotSize` bytes in flight per direction. A
 * record that does not fit before the end of the data wastes the rest, so the data area has
 * room for `slots` largest records plus the largest waste, rounded up to whole pages. Smaller
 * messages take only what they need: many more than `slots` of them fit.
 */
export function ringGeometry(slots: number, slotSize: number): RingGeometry {
  const largest = recordSize(slotSize);
  const raw = slots * largest + largest - 8;
  const capacity = Math.ceil(raw / 4096) * 4096;
  if (capacity > MAX_CAPACITY) {
    throw new RangeError(
      `a ring of ${slots} slots of ${slotSize} bytes needs ${capacity} bytes per direction, more than the ${MAX_CAPACITY} a ring can have; use fewer or smaller slots`,
    );
  }
  return { slots, slotSize, capacity, totalSize: DATA_OFFSET + 2 * capacity };
}
