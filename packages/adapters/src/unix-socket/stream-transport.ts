import { type Binding, type FdHandle } from '@rxipc/native';

import type { ByteStreamTransport, MessageTransport } from '../channel/transport.js';
import { END } from '../channel/transport.js';
import { isSystemError } from '../errors.js';
import type { Framing } from '../framing/framing.js';
import type { ClientSocket } from './connect.js';
import { anyFdsToSend, attachReceivedFds, fdsToSend } from './fds.js';
import { SocketTransport } from './socket-transport.js';
import type { UnixSocketEndpoint } from './uri.js';

/**
 * A connected Unix stream socket as a byte stream: `read(2)` and `writev(2)` through the fd
 * watcher, `shutdown(SHUT_WR)` to end the write side (the peer sees end of stream, and this
 * side goes on reading). With `maxFds` above 0 it reads with `recvmsg(2)` to receive
 * descriptors, and {@link wrapFramed} attaches them to the frames they came with.
 */
export function unixStreamTransport(
  endpoint: UnixSocketEndpoint,
  socket: ClientSocket,
  binding: Binding,
): ByteStreamTransport {
  return new UnixStreamTransport(endpoint, socket, binding);
}

/** Descriptors that arrived with the stream's bytes up to `end` (a running byte count). */
interface FdMark {
  readonly end: number;
  readonly fds: FdHandle[];
}

class UnixStreamTransport extends SocketTransport implements ByteStreamTransport {
  /** Bytes read so far: where in the stream received descriptors belong. */
  private bytesRead = 0;
  readonly marks: FdMark[] = [];
  /** Descriptors for the next write; set by the framed wrapper, cleared once they went out. */
  outgoingFds: readonly (FdHandle | number)[] | undefined;

  constructor(endpoint: UnixSocketEndpoint, socket: ClientSocket, binding: Binding) {
    super(endpoint, socket, binding);
  }

  get acceptsNoFds(): boolean {
    return this.endpoint.maxFds === 0;
  }

  read(target: Uint8Array): number | null {
    if (!this.isConnected()) return null;
    if (this.endpoint.maxFds === 0) return this.binding.fdRead(this.handle, target);
    const received = this.binding.socketRecvmsg(this.handle, target, {
      maxFds: this.endpoint.maxFds,
    });
    if (received === null) return null;
    this.bytesRead += received.length;
    if (received.fds.length > 0) this.marks.push({ end: this.bytesRead, fds: received.fds });
    return received.length;
  }

  writev(chunks: readonly Uint8Array[]): number | null {
    if (!this.isConnected()) return null;
    if (this.outgoingFds === undefined) return this.binding.fdWritev(this.handle, chunks);
    const written = this.binding.socketSendmsg(this.handle, chunks, { fds: this.outgoingFds });
    // Sent with the first byte written; a partial write's rest goes without them.
    if (written !== null) this.outgoingFds = undefined;
    return written;
  }

  endWrite(): void {
    if (this.closed) return;
    try {
      this.binding.socketShutdown(this.handle, 'write');
    } catch (error) {
      // The peer may be gone already: nothing is left to tell it.
      if (!isSystemError(error, 'ENOTCONN')) throw error;
    }
  }

  wrapFramed(framed: MessageTransport, framing: Framing): MessageTransport {
    return new FdFramedTransport(framed, this, framing);
  }
}

/**
 * Carries descriptors with frames on a stream socket. The kernel attaches `SCM_RIGHTS` to the
 * bytes of the `sendmsg` that carried them, and hands them out with the read that first
 * touches those bytes; that read ends inside them (unix_stream_read_generic stops after a
 * chunk with descriptors). So:
 *
 * - Sending: a frame with descriptors goes in a `sendmsg` of its own, starting at the frame's
 *   first byte (frames before it are flushed first, in their own batch).
 * - Receiving: the descriptors belong to the frame that holds the last byte of the read that
 *   brought them: the first frame that ends at or after that point in the stream.
 */
class FdFramedTransport implements MessageTransport {
  readonly maxMessageSize: number;
  /** Bytes of the stream consumed by the frames delivered so far. */
  private delivered = 0;
  /** The message whose descriptors already went out with a partial write. */
  private fdsSentWith: Uint8Array | undefined;
  private readonly overhead: number;

  constructor(
    private readonly framed: MessageTransport,
    private readonly stream: UnixStreamTransport,
    framing: Framing,
  ) {
    this.maxMessageSize = framed.maxMessageSize;
    this.overhead = framing.prefixLength + framing.suffix.length;
    // A channel that accepts no descriptors reads frames as they come, at no extra cost.
    if (stream.acceptsNoFds) this.receive = () => framed.receive();
  }

  check(message: Uint8Array): void {
    this.framed.check(message);
  }

  receive(): Uint8Array | null | typeof END {
    const message = this.framed.receive();
    if (message === null || message === END) return message;
    this.delivered += this.overhead + message.length;
    const marks = this.stream.marks;
    while (marks.length > 0 && marks[0]!.end <= this.delivered) {
      attachReceivedFds(message, marks.shift()!.fds);
    }
    return message;
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (!anyFdsToSend()) return this.framed.send(messages, start, end);
    let plain = start;
    while (plain < end && fdsToSend(messages[plain]!) === undefined) plain++;
    if (plain > start) return this.framed.send(messages, start, plain);

    const message = messages[start]!;
    if (this.fdsSentWith !== message) this.stream.outgoingFds = fdsToSend(message);
    const accepted = this.framed.send(messages, start, start + 1);
    // Whether whole or in part, the descriptors left with the first bytes of this frame.
    this.fdsSentWith =
      this.stream.outgoingFds === undefined && accepted === 0 ? message : undefined;
    this.stream.outgoingFds = undefined;
    return accepted;
  }

  watchReadable(callback: (() => void) | null): void {
    this.framed.watchReadable(callback);
  }

  watchWritable(callback: (() => void) | null): void {
    this.framed.watchWritable(callback);
  }

  endWrite(): void {
    this.framed.endWrite?.();
  }

  close(): void | Promise<void> {
    return this.framed.close();
  }
}
