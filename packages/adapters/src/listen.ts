/**
 * The server side of every mechanism with peers: `listen(uri)` binds an endpoint and yields
 * each peer that connects as a {@link Connection}, a Channel that knows who is at the other end.
 */
import { sequenceS } from 'fp-ts/lib/Apply.js';
import { Observable } from 'rxjs';

import type { Peer } from './adapter.js';
import type { Channel } from './channel/channel.js';
import type { ByteStreamTransport, MessageTransport } from './channel/transport.js';
import { idListParam } from './internal/params.js';
import { channelOf, type OpenOptions, parseEndpoint } from './open.js';
import { validation } from './uri/uri.js';

/** Options for {@link listen}: each connection's channel options, and who may connect. */
export interface ListenOptions<In = Uint8Array, Out = In> extends OpenOptions<In, Out> {
  /**
   * Accept only peers running as one of these users (`?allowUid=1000,1001` in the URI; these
   * win). A peer whose credentials the mechanism cannot tell (TCP) is refused.
   */
  readonly allowUid?: readonly number[];
  /** Accept only peers whose primary group is one of these (`?allowGid=`). */
  readonly allowGid?: readonly number[];
  /** Accept a peer only if this returns `true` (after `allowUid`/`allowGid`). */
  readonly accept?: (peer: Peer) => boolean;
  /** Called once bound, with the endpoint's concrete URI (TCP: the port the kernel chose). */
  readonly onListening?: (uri: string) => void;
  /** Called for each refused peer, after it was closed (or its datagrams dropped) unread. */
  readonly onRefused?: (peer: Peer) => void;
}

/** A connected peer: a {@link Channel} to it, and what the kernel says about who it is. */
export interface Connection<In = Uint8Array, Out = In> extends Channel<In, Out> {
  readonly peer: Peer;
}

/** The URI options {@link listen} reads, besides the scheme's and the common ones. */
const LISTEN_OPTIONS = ['allowUid', 'allowGid'];

/**
 * Binds `uri` and emits each peer that connects, as a {@link Connection}. The scheme's adapter
 * must support listening (`unix:`, `unix-seqpacket:`, `unix-dgram:`, `tcp:`, and plugins that
 * implement `listen`).
 *
 * The returned `Observable` is cold: each subscription binds the endpoint (synchronously for
 * Unix sockets: a socket file exists when `subscribe` returns; a bind error is the
 * subscriber's error) and unsubscribing stops listening and removes the socket file. A live
 * socket at the path is never taken over (`EADDRINUSE`, naming its process when known); a
 * stale one, left by a process that died, is replaced.
 *
 * Each connection belongs to the subscriber: it stays open after the listener stops, until
 * its `close()`. Peers are checked before anything is read from them: `allowUid`,
 * `allowGid`, then `accept`; a refused peer is closed unheard (datagram peers: their
 * datagrams are dropped). Nothing is buffered between accepting and emitting; a datagram
 * listener holds up to 64 datagrams per peer (see `unix-dgram:`).
 *
 * @example
 * ```ts
 * listen('unix:/tmp/echo.sock?allowUid=1000', { framing: 'line' }).subscribe((connection) => {
 *   console.log('pid', connection.peer.pid);
 *   connection.subscribe((line) => connection.next(line));
 * });
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, listing every problem.
 * @throws {UnknownSchemeError} `ERR_RXIPC_UNKNOWN_SCHEME`.
 * @throws {TypeError} `ERR_RXIPC_CANNOT_LISTEN` for a scheme whose adapter cannot listen.
 */
export function listen<In = Uint8Array, Out = In>(
  uri: string,
  options: ListenOptions<In, Out> = {},
): Observable<Connection<In, Out>> {
  const { adapter, endpoint, common, extra } = parseEndpoint(uri, {
    options: LISTEN_OPTIONS,
    parse: (parts) =>
      sequenceS(validation)({
        allowUid: idListParam(parts, 'allowUid'),
        allowGid: idListParam(parts, 'allowGid'),
      }),
  });
  if (adapter.listen === undefined) {
    throw Object.assign(
      new TypeError(`${adapter.scheme}: cannot listen (it has no peers to accept); use open()`),
      { code: 'ERR_RXIPC_CANNOT_LISTEN' },
    );
  }
  const { allowUid, allowGid, accept, onListening, onRefused, ...channelOptions } = options;
  const merged = { ...common, ...channelOptions } as OpenOptions<In, Out>;
  const uids = allowUid ?? extra.allowUid;
  const gids = allowGid ?? extra.allowGid;
  const allowed = (peer: Peer): boolean =>
    (uids === undefined || (peer.uid !== undefined && uids.includes(peer.uid))) &&
    (gids === undefined || (peer.gid !== undefined && gids.includes(peer.gid))) &&
    (accept === undefined || accept(peer));

  return new Observable<Connection<In, Out>>((subscriber) => {
    const listener =
      adapter.kind === 'stream' ? adapter.listen!(endpoint) : adapter.listen!(endpoint);
    try {
      listener.start({
        listening: (concrete) => onListening?.(concrete),
        connection: (transport, peer) => {
          if (subscriber.closed) return false;
          let ok: boolean;
          try {
            ok = allowed(peer);
          } catch (error) {
            subscriber.error(error);
            return false;
          }
          if (!ok) {
            queueMicrotask(() => onRefused?.(peer));
            return false;
          }
          subscriber.next(connectionOf<In, Out>(adapter.kind, transport, peer, merged));
          return true;
        },
        error: (error) => subscriber.error(error),
      });
    } catch (error) {
      subscriber.error(error);
      return;
    }
    return () => {
      void listener.close();
    };
  });
}

/** A channel on an accepted transport; closing it closes the transport even if never used. */
function connectionOf<In, Out>(
  kind: 'stream' | 'message',
  transport: ByteStreamTransport | MessageTransport,
  peer: Peer,
  options: OpenOptions<In, Out>,
): Connection<In, Out> {
  let used = false;
  const take = <T>(): T => {
    used = true;
    return transport as T;
  };
  const channel = channelOf<In, Out>(
    kind === 'stream'
      ? { kind, open: () => take<ByteStreamTransport>() }
      : { kind, open: () => take<MessageTransport>() },
    options,
  );
  const closeChannel = channel.close.bind(channel);
  let closing: Promise<void> | undefined;
  return Object.assign(channel, {
    peer,
    close(): Promise<void> {
      closing ??= closeChannel().then(async () => {
        if (!used) await transport.close();
      });
      return closing;
    },
  });
}
