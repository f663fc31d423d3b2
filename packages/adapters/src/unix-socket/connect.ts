import { type Binding, type FdHandle, type SocketType } from '@rxipc/native';

import type { UnixSocketEndpoint } from './uri.js';

/** `SO_TYPE` values (socket(2)). */
const SO_TYPES: Readonly<Record<SocketType, number>> = { stream: 1, dgram: 2, seqpacket: 5 };

/** A client socket: connected, or still to connect (a Unix listener's backlog was full). */
export interface ClientSocket {
  readonly handle: FdHandle;
  readonly connected: boolean;
}

/**
 * The socket a client channel uses: the given handle, the inherited descriptor (`?fd=N`,
 * checked to be a socket of the right type), or a new socket connected to the address. A new
 * datagram socket binds to a kernel-chosen abstract name first (autobind), so that the peer
 * can answer. Never waits: a full backlog (`EAGAIN`) leaves `connected` false, for the
 * transport to retry.
 */
export function clientSocket(endpoint: UnixSocketEndpoint, binding: Binding): ClientSocket {
  if (endpoint.handle !== undefined) {
    checkType(endpoint, endpoint.handle, binding);
    binding.fdSetFlags(endpoint.handle, { nonblock: true });
    return { handle: endpoint.handle, connected: true };
  }
  if (endpoint.fd !== undefined) {
    const handle = binding.fdAdopt(endpoint.fd, { closeOnClose: endpoint.fd > 2 });
    try {
      checkType(endpoint, handle, binding);
      binding.fdSetFlags(handle, { nonblock: true });
      applyBuffers(endpoint, handle, binding);
    } catch (error) {
      binding.fdClose(handle);
      throw error;
    }
    return { handle, connected: true };
  }
  const handle = binding.socket(endpoint.type);
  try {
    applyBuffers(endpoint, handle, binding);
    if (endpoint.type === 'dgram') binding.socketBind(handle, '');
    return { handle, connected: binding.socketConnect(handle, endpoint.address!) };
  } catch (error) {
    binding.fdClose(handle);
    throw error;
  }
}

/** Applies the endpoint's `sndbuf` and `rcvbuf`. */
export function applyBuffers(
  endpoint: UnixSocketEndpoint,
  handle: FdHandle,
  binding: Binding,
): void {
  if (endpoint.sndbuf !== undefined) binding.socketSetOption(handle, 'SO_SNDBUF', endpoint.sndbuf);
  if (endpoint.rcvbuf !== undefined) binding.socketSetOption(handle, 'SO_RCVBUF', endpoint.rcvbuf);
}

/** Throws `EPROTOTYPE` unless `handle` is a socket of the endpoint's type. */
export function checkType(endpoint: UnixSocketEndpoint, handle: FdHandle, binding: Binding): void {
  const what = binding.fdType(handle);
  const type = what === 'socket' ? binding.socketGetOption(handle, 'SO_TYPE') : -1;
  if (type !== SO_TYPES[endpoint.type]) {
    const found = what !== 'socket' ? `no socket (${what})` : `a socket of SO_TYPE ${type}`;
    // EPROTOTYPE: "protocol wrong type for socket", what connect(2) says of a type mismatch.
    throw binding.systemError(
      91,
      'getsockopt',
      undefined,
      `${endpoint.display} needs a ${endpoint.type} socket, the descriptor is ${found}`,
    );
  }
}
