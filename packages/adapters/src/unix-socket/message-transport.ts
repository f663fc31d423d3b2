import { type Binding, POLL_WRITABLE } from '@rxipc/native';

import { END, type MessageTransport } from '../channel/transport.js';
import { FramingError, FrameTooLargeError, isSystemError } from '../errors.js';
import type { ClientSocket } from './connect.js';
import { attachReceivedFds, fdsToSend } from './fds.js';
import { SocketTransport } from './socket-transport.js';
import type { UnixSocketEndpoint } from './uri.js';

/** Messages handed to the kernel per `send` call, so a fast peer cannot starve the loop. */
const SEND_BATCH = 1024;
/** The smallest receive chunk; messages are cut from chunks as views, not copies. */
const MIN_CHUNK = 256 * 1024;

/**
 * A connected datagram or seqpacket socket: one kernel message is one channel message, no
 * framing. `send(2)` and `recv(2)` (or `sendmsg`/`recvmsg` when descriptors travel) through
 * the fd watcher.
 *
 * - The largest message is `maxMessageSize`, by default what the socket's send buffer allows
 *   (`SO_SNDBUF` minus 32 bytes: 212,960 with Linux's defaults). A larger one is refused
 *   before the kernel sees it; one arriving larger is an error, not a silent truncation.
 * - Seqpacket: an empty message is refused, because `recv(2)` returns 0 for it and for end of
 *   stream alike; `complete()` is `shutdown(SHUT_WR)`, and a peer that closes ends the stream.
 * - Datagram: there is no end of stream, unless the endpoint says `eof=empty`: then
 *   `complete()` sends an empty datagram and an empty datagram completes the stream.
 *
 * Buffers: received messages are views of a chunk (at least 256 KiB, and room for one
 * largest message); a new chunk is allocated when the room left is too small.
 */
export function unixMessageTransport(
  endpoint: UnixSocketEndpoint,
  socket: ClientSocket,
  binding: Binding,
): MessageTransport {
  return new UnixMessageTransport(endpoint, socket, binding);
}

export class UnixMessageTransport extends SocketTransport implements MessageTransport {
  readonly maxMessageSize: number;
  /** An empty message means end of stream (seqpacket always; datagram with `eof=empty`). */
  private readonly emptyIsEnd: boolean;
  private chunk = new Uint8Array(0);
  private position = 0;
  private endPending = false;

  constructor(endpoint: UnixSocketEndpoint, socket: ClientSocket, binding: Binding) {
    super(endpoint, socket, binding);
    const limit = binding.socketGetOption(socket.handle, 'SO_SNDBUF') - 32;
    this.maxMessageSize = endpoint.maxMessageSize ?? limit;
    this.emptyIsEnd = endpoint.type === 'seqpacket' || endpoint.eof;
  }

  check(message: Uint8Array): void {
    if (message.byteLength > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a message of ${message.byteLength} bytes exceeds maxMessageSize ${this.maxMessageSize} bytes of ${this.endpoint.display}`,
      );
    }
    if (message.byteLength === 0 && this.emptyIsEnd) {
      throw new FramingError(
        this.endpoint.type === 'seqpacket'
          ? 'an empty seqpacket message cannot be sent: recv(2) reads it as end of stream'
          : 'an empty datagram cannot be sent with eof=empty: it marks end of stream',
      );
    }
  }

  receive(): Uint8Array | null | typeof END {
    if (!this.isConnected()) return null;
    if (this.chunk.byteLength - this.position < this.maxMessageSize) {
      this.chunk = new Uint8Array(Math.max(MIN_CHUNK, this.maxMessageSize));
      this.position = 0;
    }
    const room = this.chunk.subarray(this.position);
    let length: number;
    let fds = undefined;
    if (this.endpoint.maxFds === 0) {
      const n = this.binding.socketRecv(this.handle, room);
      if (n === null) return null;
      length = n;
    } else {
      const received = this.binding.socketRecvmsg(this.handle, room, {
        maxFds: this.endpoint.maxFds,
      });
      if (received === null) return null;
      length = received.truncated ? room.byteLength + 1 : received.length;
      fds = received.fds;
    }
    if (length === 0 && this.emptyIsEnd && (fds === undefined || fds.length === 0)) return END;
    if (length > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a message of ${length} bytes arrived on ${this.endpoint.display}, more than maxMessageSize ${this.maxMessageSize} bytes`,
      );
    }
    const message = room.subarray(0, length);
    this.position += length;
    if (fds !== undefined) attachReceivedFds(message, fds);
    return message;
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (!this.isConnected()) return 0;
    const last = Math.min(end, start + SEND_BATCH);
    let i = start;
    for (; i < last; i++) {
      const message = messages[i]!;
      const fds = fdsToSend(message);
      const sent =
        fds === undefined
          ? this.binding.socketSend(this.handle, message)
          : this.binding.socketSendmsg(this.handle, message, { fds });
      if (sent === null) break;
    }
    return i - start;
  }

  endWrite(): void {
    if (this.closed) return;
    if (this.endpoint.type === 'seqpacket') {
      try {
        this.binding.socketShutdown(this.handle, 'write');
      } catch (error) {
        if (!isSystemError(error, 'ENOTCONN')) throw error;
      }
    } else if (this.endpoint.eof) {
      this.endPending = true;
      this.sendEnd();
    }
  }

  /** Sends the empty datagram that ends the stream, waiting for room if the peer is full. */
  private readonly sendEnd = (): void => {
    if (!this.endPending || this.closed) return;
    let sent: number | null = 0;
    try {
      sent = this.binding.socketSend(this.handle, new Uint8Array(0));
    } catch {
      // The peer is gone (ECONNREFUSED): there is nobody left to tell.
    }
    if (sent === null) {
      this.watcher.watch(POLL_WRITABLE, this.sendEnd);
      return;
    }
    this.endPending = false;
    this.watcher.watch(POLL_WRITABLE, null);
  };
}
