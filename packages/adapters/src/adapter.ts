/**
 * The plugin interface. An adapter turns a URI scheme into a transport; `open` adds URIs,
 * codecs, framing and flow control. The built-in adapters are defined the same way.
 */
import type { ByteStreamTransport, MessageTransport } from './channel/transport.js';
import type { Parsed, UriParts } from './uri/uri.js';

interface AdapterBase<E> {
  /** The URI scheme, without the colon (`'fifo'`, `'nats'`). Lower case. */
  readonly scheme: string;
  /** One line for `rxipc --help` and error messages. */
  readonly description: string;
  /** Scheme-specific URI options this adapter reads (the common ones are handled for it). */
  readonly options?: readonly string[];
  /** Parses the URI's body and scheme-specific options; report every problem. */
  parse(parts: UriParts): Parsed<E>;
}

/** An adapter for a byte stream: gets `framing` and `maxFrameSize` options for free. */
export interface StreamAdapter<E = unknown> extends AdapterBase<E> {
  readonly kind: 'stream';
  /**
   * Opens the kernel object (called on the channel's first use). Must not block: when opening
   * has to wait (for a peer, for another process to finish setting something up), return a
   * promise of the transport; the channel queues sends and holds subscribers until it settles.
   * The channel aborts `signal` when it is closed before that promise settles: an adapter that
   * can, stops waiting then, releases what it had opened and rejects (with `signal.reason`),
   * so that `close()` need not wait. One that ignores it is waited for, and its transport
   * closed.
   */
  connect(endpoint: E, signal: AbortSignal): ByteStreamTransport | Promise<ByteStreamTransport>;
  /** Binds `endpoint` to accept connections, for `listen()`. Only for mechanisms with peers. */
  listen?(endpoint: E): TransportListener<ByteStreamTransport>;
}

/** An adapter whose mechanism keeps message boundaries (queues, datagrams, rings). */
export interface MessageAdapter<E = unknown> extends AdapterBase<E> {
  readonly kind: 'message';
  /**
   * Opens the kernel object, or returns a promise of it that `signal` may cut short (as for a
   * stream adapter).
   */
  connect(endpoint: E, signal: AbortSignal): MessageTransport | Promise<MessageTransport>;
  /** Binds `endpoint` to accept connections (or, for datagrams, peers), for `listen()`. */
  listen?(endpoint: E): TransportListener<MessageTransport>;
}

/**
 * Who connected to a listener, as far as the mechanism can tell. Unix sockets know the peer's
 * process (`SO_PEERCRED` on stream and seqpacket, `SCM_CREDENTIALS` on datagrams); TCP knows
 * an address.
 */
export interface Peer {
  readonly pid?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** A socket path, `@name` (abstract) or `''` (unnamed), or `host:port` for TCP. */
  readonly address?: string;
}

/** What an adapter's listener reports (the listener calls these on the event loop). */
export interface ListenerEvents<T> {
  /** The endpoint is bound; `uri` names it concretely (TCP: with the port the kernel chose). */
  listening(uri: string): void;
  /**
   * A new peer and its transport, which from now on belongs to the callee. `false` refuses the
   * peer: the listener then closes the transport without reading from it (a datagram
   * listener drops that peer's messages unread by anyone).
   */
  connection(transport: T, peer: Peer): boolean;
  /** A failure that ends listening; nothing is reported after it. */
  error(error: unknown): void;
}

/**
 * A bound endpoint that accepts peers: what an adapter's `listen` returns, and what the public
 * `listen()` turns into an `Observable` of connections.
 */
export interface TransportListener<T> {
  /**
   * Binds (at once, where the kernel allows: a bind error is thrown from here) and starts
   * reporting to `events`. Called once.
   */
  start(events: ListenerEvents<T>): void;
  /**
   * Stops accepting and releases the endpoint (a socket file it created is removed). The
   * transports it handed out stay open; they belong to their connections. Called once.
   */
  close(): void | Promise<void>;
}

export type Adapter<E = unknown> = StreamAdapter<E> | MessageAdapter<E>;

/**
 * Declares an adapter; pass it to `registerAdapter` to make its scheme known to `open`.
 * (An identity function that gives the definition its type.)
 *
 * @example
 * ```ts
 * registerAdapter(defineAdapter({
 *   scheme: 'loop', kind: 'message', description: 'an in-process loopback',
 *   parse: () => E.right({}),
 *   connect: () => makeLoopbackTransport(),
 * }));
 * const channel = open('loop:');
 * ```
 */
export function defineAdapter<E>(adapter: Adapter<E>): Adapter<E> {
  return adapter;
}
