import { type Binding, type FdHandle, POLL_READABLE } from '@rxipc/native';

import type { ListenerEvents, Peer, TransportListener } from '../adapter.js';
import type { ByteStreamTransport, MessageTransport } from '../channel/transport.js';
import { isSystemError } from '../errors.js';
import { bindSocket, type BoundSocket } from './bind.js';
import { unixMessageTransport } from './message-transport.js';
import { SocketWatcher } from './socket-watcher.js';
import { unixStreamTransport } from './stream-transport.js';
import type { UnixSocketEndpoint } from './uri.js';

/** Connections accepted per wake-up, so a flood of clients cannot starve the loop. */
const ACCEPT_BATCH = 64;
/** How long accepting pauses when the process is out of descriptors (EMFILE, ENFILE). */
const FD_EXHAUSTED_PAUSE_MS = 100;

/**
 * A listening stream or seqpacket socket. Each accepted connection is reported with the peer's
 * credentials (`SO_PEERCRED`: pid, uid and gid as of its `connect(2)`) before anything is read
 * from it, so a refused peer is closed unheard. Running out of descriptors pauses accepting
 * for 100 ms instead of failing (the connections wait in the backlog).
 */
export function unixListener<T extends ByteStreamTransport | MessageTransport>(
  endpoint: UnixSocketEndpoint,
  binding: Binding,
): TransportListener<T> {
  return new UnixListener<T>(endpoint, binding);
}

class UnixListener<T> implements TransportListener<T> {
  private bound: BoundSocket | undefined;
  private watcher: SocketWatcher | undefined;
  private events: ListenerEvents<T> | undefined;
  private pause: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly endpoint: UnixSocketEndpoint,
    private readonly binding: Binding,
  ) {}

  start(events: ListenerEvents<T>): void {
    this.events = events;
    this.bound = bindSocket(this.endpoint, this.binding);
    this.watcher = new SocketWatcher(this.bound.handle, this.binding);
    events.listening(this.endpoint.display);
    this.watcher.watch(POLL_READABLE, this.accept);
  }

  private readonly accept = (): void => {
    const { bound, events } = this;
    if (bound === undefined || events === undefined || this.closed) return;
    for (let i = 0; i < ACCEPT_BATCH && !this.closed; i++) {
      let connection: FdHandle | null;
      try {
        connection = this.binding.socketAccept(bound.handle);
      } catch (error) {
        if (isSystemError(error, 'EMFILE') || isSystemError(error, 'ENFILE')) {
          this.pauseAccepting();
          return;
        }
        this.fail(error);
        return;
      }
      if (connection === null) return;
      this.report(connection, events);
    }
  };

  private report(connection: FdHandle, events: ListenerEvents<T>): void {
    let transport: T;
    let peer: Peer;
    try {
      const credentials = this.binding.socketPeerCred(connection);
      peer = { pid: credentials.pid, uid: credentials.uid, gid: credentials.gid };
      const socket = { handle: connection, connected: true };
      // An accepted socket talks to one peer; show it in errors as "accepted from pid N".
      const endpoint = {
        ...this.endpoint,
        display: `${this.endpoint.display} (accepted from pid ${credentials.pid})`,
      };
      transport = (
        this.endpoint.type === 'stream'
          ? unixStreamTransport(endpoint, socket, this.binding)
          : unixMessageTransport(endpoint, socket, this.binding)
      ) as T;
    } catch {
      // The peer left between accept and now (ENOTCONN): nothing to report.
      this.binding.fdClose(connection);
      return;
    }
    if (!events.connection(transport, peer)) {
      void (transport as { close(): void | Promise<void> }).close();
    }
  }

  private pauseAccepting(): void {
    this.watcher?.watch(POLL_READABLE, null);
    this.pause = setTimeout(() => {
      this.pause = undefined;
      if (!this.closed) this.watcher?.watch(POLL_READABLE, this.accept);
    }, FD_EXHAUSTED_PAUSE_MS);
  }

  private fail(error: unknown): void {
    const events = this.events;
    this.close();
    events?.error(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pause !== undefined) clearTimeout(this.pause);
    this.watcher?.close();
    if (this.bound !== undefined) {
      this.binding.fdClose(this.bound.handle);
      this.bound.unlink();
    }
    this.events = undefined;
  }
}
