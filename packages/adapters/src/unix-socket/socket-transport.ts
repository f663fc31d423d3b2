import { type Binding, type FdHandle, POLL_READABLE, POLL_WRITABLE } from '@rxipc/native';

import type { ClientSocket } from './connect.js';
import { SocketWatcher } from './socket-watcher.js';
import type { UnixSocketEndpoint } from './uri.js';

/** First retry of a connect that met a full backlog, then doubling up to the maximum. */
const CONNECT_RETRY_FIRST_MS = 1;
const CONNECT_RETRY_MAX_MS = 100;

/**
 * What the stream and message transports share: the socket, its watcher, a connect that
 * retries while the listener's backlog is full (reads and writes report "nothing yet" until
 * then), and closing.
 */
export abstract class SocketTransport {
  protected readonly handle: FdHandle;
  protected readonly watcher: SocketWatcher;
  private connected: boolean;
  private connectError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = CONNECT_RETRY_FIRST_MS;
  private onReadable: (() => void) | null = null;
  private onWritable: (() => void) | null = null;
  protected closed = false;

  constructor(
    protected readonly endpoint: UnixSocketEndpoint,
    socket: ClientSocket,
    protected readonly binding: Binding,
  ) {
    this.handle = socket.handle;
    this.connected = socket.connected;
    this.watcher = new SocketWatcher(this.handle, binding);
    if (!this.connected) this.scheduleConnect();
  }

  /** False while connecting; throws the connect's error once it failed. */
  protected isConnected(): boolean {
    if (this.connectError !== undefined) throw this.connectError;
    return this.connected;
  }

  private scheduleConnect(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      try {
        this.connected = this.binding.socketConnect(this.handle, this.endpoint.address!);
      } catch (error) {
        this.connectError = error;
      }
      if (this.connected || this.connectError !== undefined) {
        this.watchReadable(this.onReadable);
        this.watchWritable(this.onWritable);
        // A failure reaches the channel through the read or write it makes now.
        if (this.connectError !== undefined) {
          this.onReadable?.();
          this.onWritable?.();
        }
        return;
      }
      this.retryDelay = Math.min(this.retryDelay * 2, CONNECT_RETRY_MAX_MS);
      this.scheduleConnect();
    }, this.retryDelay);
  }

  watchReadable(callback: (() => void) | null): void {
    this.onReadable = callback;
    if (this.connected && !this.closed) this.watcher.watch(POLL_READABLE, callback);
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    if (this.connected && !this.closed) this.watcher.watch(POLL_WRITABLE, callback);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.watcher.close();
    this.binding.fdClose(this.handle);
  }
}
