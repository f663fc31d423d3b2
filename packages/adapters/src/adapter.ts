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
  /** Opens the kernel object (called on the channel's first use). Must not block. */
  connect(endpoint: E): ByteStreamTransport;
}

/** An adapter whose mechanism keeps message boundaries (queues, datagrams, rings). */
export interface MessageAdapter<E = unknown> extends AdapterBase<E> {
  readonly kind: 'message';
  connect(endpoint: E): MessageTransport;
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
