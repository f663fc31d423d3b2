import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import type { Adapter } from './adapter.js';
import type { ByteStreamTransport, MessageTransport } from './channel/transport.js';
import type { Channel, ChannelOptions } from './channel/channel.js';
import { framedTransport } from './channel/framed-transport.js';
import { transportChannel } from './channel/transport-channel.js';
import type { Codec } from './codecs/codec.js';
import { codecs } from './codecs/index.js';
import { UnknownSchemeError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, type FramingName } from './framing/framing.js';
import { framings } from './framing/index.js';
import { isPromiseLike } from './internal/promise-like.js';
import {
  intParam,
  knownParams,
  oneOfParam,
  orThrow,
  type Parsed,
  splitUri,
  type UriParts,
  validation,
  defined,
} from './uri/uri.js';

const adapters = new Map<string, Adapter>();

/**
 * Makes `adapter.scheme` known to {@link open}.
 *
 * @throws {TypeError} `ERR_RXIPC_SCHEME_TAKEN` when another adapter has the scheme.
 */
export function registerAdapter<E>(adapter: Adapter<E>): void {
  if (!/^[a-z][a-z0-9+.-]*$/.test(adapter.scheme)) {
    throw new TypeError(
      `an adapter scheme is lower-case letters, digits, +, . and -; got ${JSON.stringify(adapter.scheme)}`,
    );
  }
  if (adapters.has(adapter.scheme)) {
    throw Object.assign(new TypeError(`the scheme ${adapter.scheme}: is already registered`), {
      code: 'ERR_RXIPC_SCHEME_TAKEN',
    });
  }
  adapters.set(adapter.scheme, adapter as Adapter<unknown>);
}

/** The registered adapters, by scheme. */
export function registeredAdapters(): ReadonlyMap<string, Adapter> {
  return adapters;
}

/** Options for {@link open}: the channel's own, plus framing for byte streams. */
export interface OpenOptions<In = Uint8Array, Out = In> extends ChannelOptions<In, Out> {
  /** How a byte stream carries messages. Default: `'length'` (4-byte big-endian prefix). */
  readonly framing?: FramingName;
  /** The largest frame accepted from a peer or sent, in bytes. Default: 16 MiB. */
  readonly maxFrameSize?: number;
}

/** The options every scheme accepts in its URI. */
const COMMON_OPTIONS = ['codec', 'highWaterMark', 'overflow', 'onDecodeError', 'batch'];
const STREAM_OPTIONS = ['framing', 'maxFrameSize'];

/**
 * Opens any endpoint by URI and returns a {@link Channel}. The scheme picks the adapter
 * (`fd:0`, `pipe:`, and those of plugins); URI options and `options` (which win) configure
 * codec, framing and flow control. Nothing touches the kernel until the channel is first
 * subscribed to or sent on.
 *
 * @example
 * ```ts
 * open('fd:0?framing=line&codec=utf8').subscribe((line) => console.log(line.length));
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, listing every problem.
 * @throws {UnknownSchemeError} `ERR_RXIPC_UNKNOWN_SCHEME` for a scheme no adapter has.
 */
export function open<In = Uint8Array, Out = In>(
  uri: string,
  options: OpenOptions<In, Out> = {},
): Channel<In, Out> {
  const { adapter, endpoint, common } = parseEndpoint(uri);
  const merged = { ...common, ...options } as OpenOptions<In, Out>;
  return channelOf<In, Out>(
    adapter.kind === 'message'
      ? { kind: 'message', open: (signal) => adapter.connect(endpoint, signal) }
      : { kind: 'stream', open: (signal) => adapter.connect(endpoint, signal) },
    merged,
  );
}

/**
 * Finds the adapter for `uri` and parses the URI as {@link open} does: the adapter's endpoint,
 * the common options, and the options of `extra` (for `listen`), every problem at once.
 * (Internal: shared by `open`, `listen` and the creation functions.)
 *
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, listing every problem.
 * @throws {UnknownSchemeError} `ERR_RXIPC_UNKNOWN_SCHEME`.
 */
export function parseEndpoint<X = Record<string, never>>(
  uri: string,
  extra?: { readonly options: readonly string[]; parse(parts: UriParts): Parsed<X> },
): { adapter: Adapter; endpoint: unknown; common: OpenOptions<unknown>; extra: X } {
  const parts = orThrow(String(uri), splitUri(uri));
  const adapter = adapters.get(parts.scheme);
  if (adapter === undefined) {
    throw new UnknownSchemeError(
      `no adapter for ${parts.scheme}: (known schemes: ${[...adapters.keys()].map((s) => `${s}:`).join(', ')})`,
    );
  }
  const isStream = adapter.kind === 'stream';
  const known = [
    ...COMMON_OPTIONS,
    ...(isStream ? STREAM_OPTIONS : []),
    ...(adapter.options ?? []),
    ...(extra?.options ?? []),
  ];
  const parsed = pipe(
    sequenceS(validation)({
      known: knownParams(parts, known),
      common: parseCommonOptions(parts),
      endpoint: adapter.parse(parts),
      extra: extra === undefined ? E.right({} as X) : extra.parse(parts),
    }),
  );
  const { common, endpoint, extra: extraValues } = orThrow(parts.uri, parsed);
  return { adapter, endpoint, common, extra: extraValues };
}

/**
 * How to reach a transport: a byte stream (framed here) or a message transport, opened now or
 * (a promise) once opening has finished waiting; `signal` aborts when the channel is closed
 * before then (see `transportChannel`).
 */
export type TransportSource =
  | {
      readonly kind: 'stream';
      readonly open: (signal: AbortSignal) => ByteStreamTransport | Promise<ByteStreamTransport>;
    }
  | {
      readonly kind: 'message';
      readonly open: (signal: AbortSignal) => MessageTransport | Promise<MessageTransport>;
    };

/**
 * A channel on a transport, with `options` applied as {@link open} applies them (byte streams
 * get `framing` and `maxFrameSize`). The transport is opened on the channel's first use.
 * (Internal: shared by `open`, `listen` and the creation functions.)
 *
 * @throws {RangeError} for a `maxFrameSize` that is not a positive integer.
 */
export function channelOf<In = Uint8Array, Out = In>(
  source: TransportSource,
  options: OpenOptions<In, Out>,
): Channel<In, Out> {
  if (source.kind === 'message') return transportChannel<In, Out>(source.open, options);
  const framing = framings[options.framing ?? 'length'];
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < 1) {
    throw new RangeError(`maxFrameSize must be a positive integer, got ${String(maxFrameSize)}`);
  }
  const frame = (stream: ByteStreamTransport): MessageTransport => {
    const framed = framedTransport(stream, framing, maxFrameSize);
    return stream.wrapFramed?.(framed, framing) ?? framed;
  };
  return transportChannel<In, Out>((signal) => {
    const stream = source.open(signal);
    return isPromiseLike(stream) ? Promise.resolve(stream).then(frame) : frame(stream);
  }, options);
}

function parseCommonOptions(parts: UriParts): Parsed<OpenOptions<unknown>> {
  return pipe(
    sequenceS(validation)({
      codec: parseCodec(parts),
      framing: oneOfParam(parts, 'framing', ['length', 'line', 'raw'] as const),
      maxFrameSize: intParam(parts, 'maxFrameSize', 1, 2 ** 31 - 1),
      highWaterMark: intParam(parts, 'highWaterMark', 1, 2 ** 31 - 1),
      overflow: oneOfParam(parts, 'overflow', [
        'pause',
        'error',
        'drop-newest',
        'drop-oldest',
      ] as const),
      onDecodeError: oneOfParam(parts, 'onDecodeError', ['error', 'skip'] as const),
      batch: intParam(parts, 'batch', 1, 2 ** 31 - 1),
    }),
    E.map((options) => defined(options) as OpenOptions<unknown>),
  );
}

function parseCodec(parts: UriParts): Parsed<Codec<unknown> | undefined> {
  const name = parts.params.get('codec');
  if (name === undefined) return E.right(undefined);
  const codec = codecs[name];
  return codec === undefined
    ? E.left([
        `option codec must be one of ${Object.keys(codecs).join(', ')}, got ${JSON.stringify(name)}`,
      ])
    : E.right(codec);
}
