import { type Binding, POLL_WRITABLE } from '@rxipc/native';

import { END, type MessageTransport } from '../channel/transport.js';
import { FramingError, FrameTooLargeError, isSystemError } from '../errors.js';
import type { ClientSocket } from './connect.js';
import { anyFdsToSend, attachReceivedFds, fdsToSend } from './fds.js';
import { SocketTransport } from './socket-transport.js';
import type { UnixSocketEndpoint } from './uri.js';

/** Messages handed to the kernel per `send` call, so a fast peer cannot starve the loop. */
const SEND_BATCH = 1024;
/** The smallest receive chunk; messages are kept in chunks and handed out as views. */
const MIN_CHUNK = 256 * 1024;
/** Messages received per recvmmsg(2) at most. */
const MAX_BATCH = 64;
/**
 * The scratch buffer recvmmsg(2) fills, one slot of `maxMessageSize` per message: shared by
 * every socket of the process (messages are copied out before anything else can run), so a
 * socket costs no more memory for it. A `maxMessageSize` above it reads one message per call.
 */
const SCRATCH_BYTES = 2 * 1024 * 1024;
let scratch: Uint8Array | undefined;

function sharedScratch(): Uint8Array {
  scratch ??= new Uint8Array(SCRATCH_BYTES);
  return scratch;
}

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
 * Receiving takes a batch per `recvmmsg(2)` (as many as wait, up to 64 or what a 2 MiB scratch
 * buffer shared by the process holds at `maxMessageSize` each), sending a batch per
 * `sendmmsg(2)`: on these machines a system call costs more than copying a small message.
 *
 * Buffers: at most one batch of received messages waits in the transport (64 messages);
 * messages are copied into a chunk (256 KiB, or one largest message) and handed out as views
 * of it; a new chunk is allocated when the room left is too small.
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
  /** Messages received in the last batch and not yet handed out (at most {@link MAX_BATCH}). */
  private readonly inbox: Uint8Array[] = [];
  private inboxAt = 0;
  private ended = false;
  private failure: unknown;
  /** Messages per recvmmsg(2): as many largest messages as the shared scratch holds. */
  private readonly slots: number;
  private readonly lengths: Int32Array;

  constructor(endpoint: UnixSocketEndpoint, socket: ClientSocket, binding: Binding) {
    super(endpoint, socket, binding);
    const limit = binding.socketGetOption(socket.handle, 'SO_SNDBUF') - 32;
    this.maxMessageSize = endpoint.maxMessageSize ?? limit;
    this.emptyIsEnd = endpoint.type === 'seqpacket' || endpoint.eof;
    this.slots = Math.min(MAX_BATCH, Math.floor(SCRATCH_BYTES / this.maxMessageSize));
    this.lengths = new Int32Array(Math.max(1, this.slots));
  }

  check(message: Uint8Array): void {
    if (message.length > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a message of ${message.length} bytes exceeds maxMessageSize ${this.maxMessageSize} bytes of ${this.endpoint.display}`,
      );
    }
    if (message.length === 0 && this.emptyIsEnd) {
      throw new FramingError(
        this.endpoint.type === 'seqpacket'
          ? 'an empty seqpacket message cannot be sent: recv(2) reads it as end of stream'
          : 'an empty datagram cannot be sent with eof=empty: it marks end of stream',
      );
    }
  }

  receive(): Uint8Array | null | typeof END {
    if (this.inboxAt < this.inbox.length) return this.inbox[this.inboxAt++]!;
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) return END;
    if (!this.isConnected()) return null;
    if (this.endpoint.maxFds > 0 || this.slots === 0) return this.receiveOne();
    // recvmmsg(2): a batch per system call, into the process's shared scratch buffer, from
    // which each message is copied out at once (so no other socket can overwrite it).
    const scratch = sharedScratch();
    const n = this.binding.socketRecvmmsg(this.handle, scratch, this.maxMessageSize, this.lengths);
    if (n === null) return null;
    this.inbox.length = 0;
    this.inboxAt = 0;
    for (let i = 0; i < n; i++) {
      const length = this.lengths[i]!;
      if (length === 0 && this.emptyIsEnd) {
        this.ended = true;
        break;
      }
      if (length > this.maxMessageSize) {
        this.failure = this.tooLarge(length);
        break;
      }
      const from = i * this.maxMessageSize;
      this.inbox.push(this.keep(scratch.subarray(from, from + length)));
    }
    return this.receive();
  }

  /** One message with recvmsg(2) (descriptors may come with it) or recv(2), into the chunk. */
  private receiveOne(): Uint8Array | null | typeof END {
    this.ensureRoom(this.maxMessageSize);
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
      length = received.truncated ? room.length + 1 : received.length;
      fds = received.fds;
    }
    if (length === 0 && this.emptyIsEnd && (fds === undefined || fds.length === 0)) return END;
    if (length > this.maxMessageSize) throw this.tooLarge(length);
    const message = room.subarray(0, length);
    this.position += length;
    if (fds !== undefined) attachReceivedFds(message, fds);
    return message;
  }

  /** A copy of `bytes` in the chunk (a view of it: no allocation per message). */
  private keep(bytes: Uint8Array): Uint8Array {
    this.ensureRoom(bytes.length);
    const at = this.position;
    this.chunk.set(bytes, at);
    this.position += bytes.length;
    return this.chunk.subarray(at, at + bytes.length);
  }

  private ensureRoom(bytes: number): void {
    if (this.chunk.length - this.position < bytes) {
      this.chunk = new Uint8Array(Math.max(MIN_CHUNK, bytes));
      this.position = 0;
    }
  }

  private tooLarge(length: number): FrameTooLargeError {
    return new FrameTooLargeError(
      `a message of ${length} bytes arrived on ${this.endpoint.display}, more than maxMessageSize ${this.maxMessageSize} bytes`,
    );
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (!this.isConnected()) return 0;
    const last = Math.min(end, start + SEND_BATCH);
    if (!anyFdsToSend()) {
      // One sendmmsg(2) for the batch: on these machines a system call costs more than the
      // copy of a small message, so this is where the rate of small messages comes from.
      return this.binding.socketSendmmsg(this.handle, messages, start, last) ?? 0;
    }
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
