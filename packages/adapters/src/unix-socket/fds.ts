/**
 * Descriptors that travel with messages on Unix sockets (`SCM_RIGHTS`, unix(7)). A message is a
 * `Uint8Array`; descriptors are attached to it in a side table, so every layer in between
 * (the channel, flow control) passes them on untouched.
 */
import type { FdHandle } from '@rxipc/native';

const outgoing = new WeakMap<Uint8Array, readonly (FdHandle | number)[]>();
const incoming = new WeakMap<Uint8Array, FdHandle[]>();
let anyOutgoing = false;

/**
 * Attaches open descriptors to `message` (at most 253): sending it on a Unix socket channel
 * passes them to the peer, which gets its own duplicates (the caller keeps and still closes
 * its own). Returns `message` itself. Works with the raw codec (messages are `Uint8Array`s).
 * On a stream socket the descriptors travel with the frame; on datagram and seqpacket
 * sockets with the message.
 *
 * @example
 * ```ts
 * const fd = fs.openSync('/etc/hostname', 'r');
 * await channel.send(withFds(new TextEncoder().encode('hostname'), [fd]));
 * fs.closeSync(fd);
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for more than 253 descriptors.
 */
export function withFds(message: Uint8Array, fds: readonly (FdHandle | number)[]): Uint8Array {
  if (fds.length > 253) {
    throw Object.assign(
      new RangeError(`a message carries at most 253 descriptors (SCM_MAX_FD), got ${fds.length}`),
      { code: 'ERR_OUT_OF_RANGE' },
    );
  }
  anyOutgoing = true;
  outgoing.set(message, [...fds]);
  return message;
}

/**
 * The descriptors that arrived with `message` (empty when none), as handles the caller now
 * owns: close each with `native.fdClose` when done (use its number with `native.fdNumber`).
 * A second call returns `[]`. Descriptors nobody takes are closed when the message is
 * garbage-collected. A channel receives descriptors only when opened with `maxFds` above 0.
 *
 * @example
 * ```ts
 * channel.subscribe((message) => {
 *   const [file] = takeFds(message);
 *   if (file !== undefined) console.log(fs.readFileSync(native.fdNumber(file), 'utf8'));
 * });
 * ```
 */
export function takeFds(message: Uint8Array): FdHandle[] {
  const fds = incoming.get(message);
  if (fds === undefined) return [];
  incoming.delete(message);
  return fds;
}

/** Internal: the descriptors to send with `message`, if any. */
export function fdsToSend(message: Uint8Array): readonly (FdHandle | number)[] | undefined {
  return anyOutgoing ? outgoing.get(message) : undefined;
}

/** Internal: whether any message was ever given descriptors (a fast path for senders). */
export function anyFdsToSend(): boolean {
  return anyOutgoing;
}

/** Internal: records descriptors received with `message` (appending to any already there). */
export function attachReceivedFds(message: Uint8Array, fds: readonly FdHandle[]): void {
  if (fds.length === 0) return;
  const existing = incoming.get(message);
  incoming.set(message, existing === undefined ? [...fds] : [...existing, ...fds]);
}
