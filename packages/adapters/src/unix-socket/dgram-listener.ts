import { type Binding, type FdHandle, POLL_READABLE } from '@rxipc/native';

import type { ListenerEvents, TransportListener } from '../adapter.js';
import { END, type MessageTransport } from '../channel/transport.js';
import { FramingError, FrameTooLargeError } from '../errors.js';
import { bindSocket, type BoundSocket } from './bind.js';
import { attachReceivedFds, fdsToSend } from './fds.js';
import { SocketWatcher } from './socket-watcher.js';
import { addressText, type UnixSocketEndpoint } from './uri.js';

/** Datagrams read per wake-up. */
const READ_BATCH = 256;
/** Datagrams one peer may have waiting for its consumer before reading stops for everyone. */
const INBOX_LIMIT = 64;
/** Refused addresses remembered (then forgotten all at once, and asked about again). */
const REFUSED_LIMIT = 4096;
/** Sends to a full peer are retried on a timer: from 1 ms, doubling to 50 ms. */
const SEND_RETRY_FIRST_MS = 1;
const SEND_RETRY_MAX_MS = 50;
const MIN_CHUNK = 256 * 1024;
/** EDESTADDRREQ: "destination address required", for a reply to an unnamed peer. */
const EDESTADDRREQ = 89;

/**
 * A bound datagram socket as a listener: the first datagram from a new address is a new peer,
 * reported with its credentials (`SCM_CREDENTIALS`, from `SO_PASSCRED`) and given a transport
 * of its own that receives that peer's datagrams and sends to its address. Peers that send
 * from an unnamed socket are told apart by process (and cannot be answered).
 *
 * Buffers and backpressure: each peer holds at most 64 datagrams its consumer has not taken;
 * when one peer's inbox is full, the listener stops reading the socket (for every peer), the
 * kernel queue fills, and senders wait. A refused peer's datagrams are read and dropped.
 *
 * Closing the listener removes the socket file and stops taking new peers; the socket itself
 * stays open until the last peer's transport is closed too.
 */
export function dgramListener(
  endpoint: UnixSocketEndpoint,
  binding: Binding,
): TransportListener<MessageTransport> {
  return new DgramListener(endpoint, binding);
}

class DgramListener implements TransportListener<MessageTransport> {
  private bound: BoundSocket | undefined;
  private watcher: SocketWatcher | undefined;
  private events: ListenerEvents<MessageTransport> | undefined;
  readonly peers = new Map<string, DgramPeer>();
  private readonly refused = new Set<string>();
  private blockedBy: DgramPeer | undefined;
  private reading = false;
  private listening = false;
  private socketClosed = false;
  failure: unknown;
  maxMessageSize = 0;
  private chunk = new Uint8Array(0);
  private position = 0;

  constructor(
    readonly endpoint: UnixSocketEndpoint,
    readonly binding: Binding,
  ) {}

  get handle(): FdHandle {
    return this.bound!.handle;
  }

  start(events: ListenerEvents<MessageTransport>): void {
    this.events = events;
    this.bound = bindSocket(this.endpoint, this.binding);
    try {
      this.binding.socketSetOption(this.bound.handle, 'SO_PASSCRED', 1);
      this.maxMessageSize =
        this.endpoint.maxMessageSize ??
        this.binding.socketGetOption(this.bound.handle, 'SO_SNDBUF') - 32;
    } catch (error) {
      this.binding.fdClose(this.bound.handle);
      this.bound.unlink();
      throw error;
    }
    this.watcher = new SocketWatcher(this.bound.handle, this.binding);
    this.listening = true;
    events.listening(this.endpoint.display);
    this.updateReading();
  }

  /** Reads while the socket is open, nobody's inbox is full, and someone can take datagrams. */
  updateReading(): void {
    const want =
      !this.socketClosed &&
      this.failure === undefined &&
      this.blockedBy === undefined &&
      (this.listening || this.peers.size > 0);
    if (want === this.reading) return;
    this.reading = want;
    this.watcher?.watch(POLL_READABLE, want ? this.read : null);
  }

  private readonly read = (): void => {
    for (let i = 0; i < READ_BATCH && this.reading; i++) {
      if (this.chunk.length - this.position < this.maxMessageSize) {
        this.chunk = new Uint8Array(Math.max(MIN_CHUNK, this.maxMessageSize));
        this.position = 0;
      }
      const room = this.chunk.subarray(this.position);
      let received;
      try {
        received = this.binding.socketRecvmsg(this.handle, room, {
          address: true,
          credentials: true,
          maxFds: this.endpoint.maxFds,
        });
      } catch (error) {
        this.fail(error);
        return;
      }
      if (received === null) return;
      const address = received.address ?? '';
      const credentials = received.credentials;
      const key = address !== '' ? address : `unnamed:${credentials?.pid ?? 0}`;
      const peer = this.peers.get(key) ?? this.newPeer(key, address, credentials);
      if (peer === undefined) {
        for (const fd of received.fds) this.binding.fdClose(fd);
        continue;
      }
      if (received.truncated || received.length > this.maxMessageSize) {
        peer.fail(
          new FrameTooLargeError(
            `a datagram of more than ${this.maxMessageSize} bytes (maxMessageSize) arrived on ${this.endpoint.display} from ${addressText(address) || 'an unnamed socket'}`,
          ),
        );
        continue;
      }
      const message = room.subarray(0, received.length);
      this.position += received.length;
      attachReceivedFds(message, received.fds);
      peer.push(message);
      if (peer.full) {
        this.blockedBy = peer;
        this.updateReading();
      }
    }
  };

  private newPeer(
    key: string,
    address: string,
    credentials: { pid: number; uid: number; gid: number } | undefined,
  ): DgramPeer | undefined {
    if (!this.listening || this.refused.has(key) || this.events === undefined) return undefined;
    const peer = new DgramPeer(this, key, address);
    this.peers.set(key, peer);
    const accepted = this.events.connection(peer, {
      ...(credentials ?? {}),
      address: addressText(address),
    });
    if (!accepted) {
      this.peers.delete(key);
      if (this.refused.size >= REFUSED_LIMIT) this.refused.clear();
      this.refused.add(key);
      return undefined;
    }
    return peer;
  }

  /** A peer's consumer took datagrams: reading may go on. */
  drained(peer: DgramPeer): void {
    if (this.blockedBy === peer && !peer.full) {
      this.blockedBy = undefined;
      this.updateReading();
    }
  }

  removePeer(peer: DgramPeer): void {
    if (this.peers.get(peer.key) === peer) this.peers.delete(peer.key);
    if (this.blockedBy === peer) this.blockedBy = undefined;
    this.updateReading();
    this.closeSocketIfUnused();
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.updateReading();
    for (const peer of this.peers.values()) peer.fail(error);
    const events = this.events;
    this.close();
    events?.error(error);
  }

  close(): void {
    if (!this.listening && this.events === undefined) return;
    this.listening = false;
    this.events = undefined;
    this.bound?.unlink();
    this.updateReading();
    this.closeSocketIfUnused();
  }

  private closeSocketIfUnused(): void {
    if (this.listening || this.peers.size > 0 || this.socketClosed || this.bound === undefined)
      return;
    this.socketClosed = true;
    this.watcher?.close();
    this.binding.fdClose(this.bound.handle);
  }
}

/** One datagram peer of a listener: its inbox, and replies to its address. */
class DgramPeer implements MessageTransport {
  private inbox: Uint8Array[] = [];
  private ended = false;
  private failure: unknown;
  private onReadable: (() => void) | null = null;
  private notifyScheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private retryDelay = SEND_RETRY_FIRST_MS;
  private endPending = false;
  private closed = false;

  constructor(
    private readonly listener: DgramListener,
    readonly key: string,
    private readonly address: string,
  ) {}

  get maxMessageSize(): number {
    return this.listener.maxMessageSize;
  }

  get full(): boolean {
    return this.inbox.length >= INBOX_LIMIT;
  }

  push(message: Uint8Array): void {
    if (this.closed || this.ended) return;
    if (message.length === 0 && this.listener.endpoint.eof) this.ended = true;
    else this.inbox.push(message);
    this.notify();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const callback = this.onReadable;
    if (callback !== null) callback();
  }

  check(message: Uint8Array): void {
    if (message.length > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a datagram of ${message.length} bytes exceeds maxMessageSize ${this.maxMessageSize} bytes`,
      );
    }
    if (message.length === 0 && this.listener.endpoint.eof) {
      throw new FramingError(
        'an empty datagram cannot be sent with eof=empty: it marks end of stream',
      );
    }
  }

  receive(): Uint8Array | null | typeof END {
    if (this.inbox.length > 0) {
      const message = this.inbox.shift()!;
      this.listener.drained(this);
      return message;
    }
    if (this.failure !== undefined) throw this.failure;
    return this.ended ? END : null;
  }

  watchReadable(callback: (() => void) | null): void {
    this.onReadable = callback;
    const pending = this.inbox.length > 0 || this.ended || this.failure !== undefined;
    if (callback !== null && pending && !this.notifyScheduled) {
      // Datagrams came while nobody watched: tell the channel, outside this call.
      this.notifyScheduled = true;
      queueMicrotask(() => {
        this.notifyScheduled = false;
        this.onReadable?.();
      });
    }
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (this.address === '') {
      throw this.listener.binding.systemError(
        EDESTADDRREQ,
        'sendmsg',
        undefined,
        'this peer sends from an unnamed socket (it never bound one), so nothing can be sent back to it',
      );
    }
    let i = start;
    for (; i < end && i - start < 1024; i++) {
      const message = messages[i]!;
      const fds = fdsToSend(message);
      const sent = this.listener.binding.socketSendmsg(this.listener.handle, message, {
        address: this.address,
        ...(fds !== undefined ? { fds } : {}),
      });
      if (sent === null) break;
    }
    if (i > start) this.retryDelay = SEND_RETRY_FIRST_MS;
    return i - start;
  }

  watchWritable(callback: (() => void) | null): void {
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    // An unconnected socket's POLLOUT says nothing about the peer's queue (unix_dgram_poll), so
    // a full peer is retried on a timer rather than spun on.
    if (callback === null || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      callback();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, SEND_RETRY_MAX_MS);
  }

  endWrite(): void {
    if (!this.listener.endpoint.eof || this.address === '') return;
    this.endPending = true;
    this.sendEnd();
  }

  private sendEnd(): void {
    if (!this.endPending || this.closed) return;
    let sent: number | null = 0;
    try {
      sent = this.listener.binding.socketSendmsg(this.listener.handle, new Uint8Array(0), {
        address: this.address,
      });
    } catch {
      // the peer is gone: nobody is left to tell
    }
    if (sent === null) {
      this.watchWritable(() => this.sendEnd());
      return;
    }
    this.endPending = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.inbox = [];
    this.onReadable = null;
    this.listener.removePeer(this);
  }
}
