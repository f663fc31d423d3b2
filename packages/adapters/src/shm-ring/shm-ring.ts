/**
 * Shared-memory rings as channels: `shmRing()` is the typed door to the `shm:` scheme.
 */
import { type Binding, native } from '@rxipc/native';

import type { Channel, ChannelOptions } from '../channel/channel.js';
import { transportChannel } from '../channel/transport-channel.js';
import { knownParams, orThrow, splitUri } from '../uri/uri.js';
import { checkShmName } from '../shm/names.js';
import { connectShmRing } from './shm-ring-adapter.js';
import {
  MAX_READY_TIMEOUT_MS,
  parseShmRingUri,
  SHM_RING_OPTIONS,
  type ShmRingEndpoint,
} from './uri.js';
import * as E from 'fp-ts/lib/Either.js';

/** Options for {@link shmRing}: the channel's own, and the native binding for tests. */
export interface ShmRingOptions<In = Uint8Array, Out = In> extends ChannelOptions<In, Out> {
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/**
 * Opens a shared-memory ring as a {@link Channel}: the fastest way between two processes on
 * one machine. Messages are copied into a ring in a POSIX segment by one process and out of
 * it by the other, with no system call at all while both are busy.
 *
 * `target` is an `shm:` URI (`'shm:/frames?slots=16&slotSize=1048576'`; only the ring's own
 * options: channel options go in `options`) or an endpoint object. Nothing happens until the
 * first subscription or send. Then the ring is created (`O_EXCL`, mode `0o600`, recorded in
 * the registry of named objects), or joined if another process created it; the two parties
 * claim the two sides, and the second removes the name at once, so that nothing is left
 * behind whatever happens next (the memory goes with the last mapping). A third party gets
 * `ERR_RXIPC_SHM_RING_BUSY`. The creator also removes the name on `close()` if nobody joined.
 * A joiner that finds the segment still being set up by its creator waits for it without
 * blocking the event loop (sends queue, subscribers wait), for up to `readyTimeoutMs` (2 s by
 * default): a creator that died while setting it up makes the channel fail with
 * `ERR_RXIPC_SHM_LAYOUT`. `close()` during that wait stops it at once and releases what the
 * join had opened.
 *
 * Each direction holds at least `slots` messages of up to `slotSize` bytes (many more small
 * ones). Reading: every message present is delivered on one wake-up, copied out in batches
 * (or, with `zeroCopy`, large ones lent as views into the ring, valid while `next` runs).
 * Reading stops while no subscriber has demand; the ring then fills, and the peer's `send`
 * waits. Waiting sides sleep on a futex in a thread of their own, woken only when they sleep.
 * `complete()` ends the write side (the peer completes after draining); `close()` too, and
 * the peer's sends then fail with `EPIPE`. A peer that dies without closing is found out
 * within `livenessMs` of waiting: the stream errors with `ERR_RXIPC_PEER_DIED` after
 * everything the peer had finished sending.
 *
 * Residual risk: the segment is a named POSIX one, so a process of the same user could shrink
 * it and make this process fail with `SIGBUS` (see `posixShm`).
 *
 * @example
 * ```ts
 * // producer.js
 * const ring = shmRing('shm:/frames?slots=8&slotSize=1048576');
 * await ring.send(frame);
 * // consumer.js (another process)
 * shmRing('shm:/frames').subscribe((frame) => render(frame));
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, listing every problem.
 * @throws {RangeError} `ERR_OUT_OF_RANGE`, at call time, for an endpoint object whose
 * `readyTimeoutMs` is not an integer from 0 to 60000.
 * @throws {SystemError} through the channel: `EEXIST`/`ENOENT` (with `create`), `EACCES`,
 * `EMFILE`, `ENOMEM`, `EPIPE` (sending after the peer closed); project errors
 * `ERR_RXIPC_PEER_DIED`, `ERR_RXIPC_SHM_RING_BUSY`, `ERR_RXIPC_SHM_LAYOUT` (not a ring,
 * different geometry, or never finished by its creator), `ERR_RXIPC_FRAME_TOO_LARGE` (a message
 * over `slotSize`).
 */
export function shmRing<In = Uint8Array, Out = In>(
  target: string | ShmRingEndpoint,
  options: ShmRingOptions<In, Out> = {},
): Channel<In, Out> {
  const endpoint = typeof target === 'string' ? parseTarget(target) : checkEndpoint(target);
  const binding = options.binding ?? native;
  return transportChannel<In, Out>((signal) => connectShmRing(endpoint, binding, signal), options);
}

function parseTarget(uri: string): ShmRingEndpoint {
  const parts = orThrow(uri, splitUri(uri));
  if (parts.scheme !== 'shm') {
    return orThrow(uri, E.left([`shmRing takes an shm: URI, got ${parts.scheme}:`]));
  }
  orThrow(uri, knownParams(parts, SHM_RING_OPTIONS));
  return orThrow(uri, parseShmRingUri(parts));
}

function checkEndpoint(endpoint: ShmRingEndpoint): ShmRingEndpoint {
  checkShmName(endpoint.name);
  const { readyTimeoutMs } = endpoint;
  if (
    readyTimeoutMs !== undefined &&
    !(
      Number.isInteger(readyTimeoutMs) &&
      readyTimeoutMs >= 0 &&
      readyTimeoutMs <= MAX_READY_TIMEOUT_MS
    )
  ) {
    throw Object.assign(
      new RangeError(
        `readyTimeoutMs must be an integer from 0 to ${MAX_READY_TIMEOUT_MS}, got ${String(readyTimeoutMs)}`,
      ),
      { code: 'ERR_OUT_OF_RANGE' },
    );
  }
  return endpoint;
}
