/**
 * Errors of rxipc's shared-memory objects (segments, rings, shared values), each with a
 * stable `code`. Kernel failures keep their system-error shape (`EEXIST`, `ENOENT`, ...).
 */

/** A segment, ring or shared value was used after `close()`. */
export class ShmClosedError extends Error {
  override readonly name = 'ShmClosedError';
  readonly code = 'ERR_RXIPC_SHM_CLOSED';
}

/**
 * The process on the other side died without closing (its pid is gone, or now belongs to a
 * younger process). A message it was writing when it died is lost; everything it had
 * finished was delivered first.
 */
export class PeerDiedError extends Error {
  override readonly name = 'PeerDiedError';
  readonly code = 'ERR_RXIPC_PEER_DIED';
  constructor(
    message: string,
    /** The dead peer's pid. */
    readonly pid: number,
  ) {
    super(message);
  }
}

/**
 * A segment does not hold what rxipc expects there: not an rxipc ring or shared value (wrong
 * magic number or version), a geometry that contradicts its size or the options given, or a
 * segment whose creator never finished setting it up.
 */
export class ShmLayoutError extends Error {
  override readonly name = 'ShmLayoutError';
  readonly code = 'ERR_RXIPC_SHM_LAYOUT';
}

/**
 * A ring's shared state is inconsistent (a record length out of bounds): memory written by
 * something that does not follow the ring protocol. The stream ends; nothing out of bounds
 * is ever read.
 */
export class RingCorruptError extends Error {
  override readonly name = 'RingCorruptError';
  readonly code = 'ERR_RXIPC_SHM_RING_CORRUPT';
}

/**
 * A shared value stayed busy longer than its `maxWaitMs`: another process, still alive, holds
 * the writers' lock (a slow `update` function, or a stopped process) or stopped in the middle
 * of a write. The call gives up instead of blocking the event loop; the value is unchanged.
 */
export class ShmBusyError extends Error {
  override readonly name = 'ShmBusyError';
  readonly code = 'ERR_RXIPC_SHM_BUSY';
  constructor(
    message: string,
    /** The pid holding the lock, 0 when unknown. */
    readonly pid: number,
  ) {
    super(message);
  }
}

/** A ring already has its two parties; a third cannot join. */
export class RingBusyError extends Error {
  override readonly name = 'RingBusyError';
  readonly code = 'ERR_RXIPC_SHM_RING_BUSY';
}
