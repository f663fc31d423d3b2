import { type AddressInfo, createConnection, createServer, type Server, Socket } from 'node:net';

import {
  defineAdapter,
  type ListenerEvents,
  type StreamAdapter,
  type TransportListener,
} from '../adapter.js';
import type { ByteStreamTransport } from '../channel/transport.js';
import { asSystemError, tcpTransport } from './tcp-transport.js';
import { parseTcpUri, TCP_OPTIONS, type TcpEndpoint } from './uri.js';

/**
 * `tcp://host:port`: a TCP connection through Node's `net`, with the same Channel and
 * `listen` API as Unix stream sockets, so a pipeline moves from `unix:/run/app.sock` to
 * `tcp://10.0.0.5:7000` by changing its URI. `TCP_NODELAY` is on by default (`?nodelay=false`
 * turns it off): rxipc already coalesces the messages of one tick into one write, so Nagle's
 * algorithm would only add latency. `tcp:?fd=3` uses an inherited connected socket. Peers are
 * reported by address (`host:port`); TCP has no credentials.
 *
 * @example
 * ```ts
 * listen('tcp://127.0.0.1:7000?framing=line').subscribe((peer) => peer.subscribe(peer));
 * ```
 */
export const tcpAdapter: StreamAdapter<TcpEndpoint> = defineAdapter<TcpEndpoint>({
  scheme: 'tcp',
  kind: 'stream',
  description: 'a TCP connection: tcp://127.0.0.1:7000 (listen() to serve; ?nodelay=false)',
  options: TCP_OPTIONS,
  parse: parseTcpUri,
  connect: (endpoint) => connectTcp(endpoint),
  listen: (endpoint) => new TcpListener(endpoint),
}) as StreamAdapter<TcpEndpoint>;

/** A client transport: connects (the connection completes later; writes wait for it). */
export function connectTcp(endpoint: TcpEndpoint): ByteStreamTransport {
  if (endpoint.fd !== undefined) {
    const socket = new Socket({
      fd: endpoint.fd,
      readable: true,
      writable: true,
      allowHalfOpen: true,
    });
    socket.setNoDelay(endpoint.noDelay);
    return tcpTransport(socket, true);
  }
  // allowHalfOpen: the peer's FIN ends our reading only; Node would otherwise end our writing
  // too, and drop what we still have to send (complete() is a half-close, both ways).
  const socket = createConnection({
    host: endpoint.host!,
    port: endpoint.port!,
    noDelay: endpoint.noDelay,
    allowHalfOpen: true,
  });
  return tcpTransport(socket, false);
}

/** A listening TCP server: each connection arrives paused, so nothing is read before it is accepted. */
class TcpListener implements TransportListener<ByteStreamTransport> {
  private readonly server: Server;

  constructor(private readonly endpoint: TcpEndpoint) {
    this.server = createServer({
      pauseOnConnect: true,
      noDelay: endpoint.noDelay,
      allowHalfOpen: true,
    });
  }

  start(events: ListenerEvents<ByteStreamTransport>): void {
    const { server, endpoint } = this;
    if (endpoint.fd !== undefined) {
      throw new TypeError('tcp:?fd=N is a connected socket; listen on tcp://host:port');
    }
    server.on('connection', (socket: Socket) => {
      const peer = { address: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}` };
      if (!events.connection(tcpTransport(socket, true), peer)) socket.destroy();
    });
    server.on('error', (error) => events.error(asSystemError(error)));
    server.listen(endpoint.port, endpoint.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = endpoint.host!.includes(':') ? `[${endpoint.host}]` : endpoint.host;
      events.listening(`tcp://${host}:${port}`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      // Stops accepting; connections already handed out stay open (they are their owners').
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
  }
}
