/**
 * Unix domain sockets (unix(7)) as channels: the typed door to what `open('unix:...')`,
 * `open('unix-dgram:...')` and `open('unix-seqpacket:...')` open.
 */
import { type FdHandle, native, type SocketType } from '@rxipc/native';

import type { Channel } from '../channel/channel.js';
import { InvalidUriError } from '../errors.js';
import { channelOf, open, type OpenOptions } from '../open.js';
import { clientSocket } from './connect.js';
import { unixMessageTransport } from './message-transport.js';
import { unixStreamTransport } from './stream-transport.js';
import { SCHEMES, UNIX_DEFAULTS, type UnixSocketEndpoint } from './uri.js';

/** Where a {@link unixSocket} connects, and the channel's options. Give one of `path`, `name`, `handle`. */
export interface UnixSocketConfig<In = Uint8Array, Out = In> extends OpenOptions<In, Out> {
  /** `'stream'` (default; framed), `'dgram'` or `'seqpacket'` (one message per kernel message). */
  readonly type?: SocketType;
  /** A socket file to connect to. */
  readonly path?: string;
  /** A name in Linux's abstract namespace (no file; `unix:@name`). */
  readonly name?: string;
  /** A connected socket to use, such as one end of `native.socketpair()`; the channel owns it. */
  readonly handle?: FdHandle;
  /** Descriptors accepted per received message (0, the default, refuses them). */
  readonly maxFds?: number;
  /** `SO_SNDBUF` to ask for: it bounds a datagram's size (minus 32 bytes) and what is in flight. */
  readonly sndbuf?: number;
  /** `SO_RCVBUF` to ask for. */
  readonly rcvbuf?: number;
  /** Datagram and seqpacket: the largest message (default: what `SO_SNDBUF` allows). */
  readonly maxMessageSize?: number;
  /** Datagram: an empty datagram marks end of stream, and `complete()` sends one. */
  readonly eof?: boolean;
}

/**
 * Connects to a Unix domain socket and returns a {@link Channel}: an `Observable` of what the
 * server sends and an `Observer` that sends to it. Stream sockets carry framed messages
 * (`framing`: `'length'` by default, `'line'`, `'raw'`); datagram and seqpacket sockets carry
 * one kernel message per channel message. To serve, use `listen('unix:/path')`.
 *
 * Nothing happens until the first subscription or send; then the socket is created and
 * connected without waiting (a full listen backlog is retried on a timer). A datagram client
 * binds to a kernel-chosen abstract name, so the server can answer. `complete()` ends the
 * write side (`shutdown(SHUT_WR)` on stream and seqpacket) and the stream completes when the
 * server closes; `close()` closes the socket. Descriptors travel with `withFds` and arrive
 * with `takeFds` (receiving needs `maxFds`).
 *
 * @example
 * ```ts
 * const channel = unixSocket({ path: '/run/app.sock', framing: 'line', codec: utf8Codec });
 * channel.subscribe((reply) => console.log(reply));
 * await channel.send('status');
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI or a
 * config without exactly one of `path`, `name`, `handle`.
 *
 * Failures later arrive on the channel (a subscriber error, a rejected send): `ENOENT` (no
 * socket), `ECONNREFUSED` (nothing listens: a stale socket file), `EACCES`, `EPROTOTYPE` (a
 * socket of another type), `EMSGSIZE` (a datagram larger than the socket allows, with the
 * limit in the message), `EPIPE`/`ECONNRESET` when the server went away.
 */
export function unixSocket<In = Uint8Array, Out = In>(
  uriOrConfig: string | UnixSocketConfig<In, Out>,
  options: OpenOptions<In, Out> = {},
): Channel<In, Out> {
  if (typeof uriOrConfig === 'string') {
    const scheme = uriOrConfig.slice(0, uriOrConfig.indexOf(':'));
    if (!Object.values(SCHEMES).includes(scheme)) {
      throw new InvalidUriError(uriOrConfig, [
        'unixSocket() takes a unix:, unix-dgram: or unix-seqpacket: URI',
      ]);
    }
    return open(uriOrConfig, options);
  }
  const {
    type = 'stream',
    path,
    name,
    handle,
    maxFds,
    sndbuf,
    rcvbuf,
    maxMessageSize,
    eof,
    ...rest
  } = uriOrConfig;
  const scheme = SCHEMES[type];
  if (scheme === undefined) {
    throw new InvalidUriError(String(type), ['type must be stream, dgram or seqpacket']);
  }
  const given = [path, name, handle].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new InvalidUriError(`${scheme}:`, ['give exactly one of path, name and handle']);
  }
  const address =
    path !== undefined ? resolvePath(path) : name !== undefined ? `\0${name}` : undefined;
  const endpoint: UnixSocketEndpoint = {
    type,
    display: `${scheme}:${path ?? (name !== undefined ? `@${name}` : '(a given socket)')}`,
    ...(address !== undefined ? { address } : {}),
    ...(handle !== undefined ? { handle } : {}),
    mode: UNIX_DEFAULTS.mode,
    backlog: UNIX_DEFAULTS.backlog,
    maxFds: maxFds ?? UNIX_DEFAULTS.maxFds,
    ...(sndbuf !== undefined ? { sndbuf } : {}),
    ...(rcvbuf !== undefined ? { rcvbuf } : {}),
    ...(maxMessageSize !== undefined ? { maxMessageSize } : {}),
    eof: eof ?? false,
  };
  const merged = { ...rest, ...options } as OpenOptions<In, Out>;
  return type === 'stream'
    ? channelOf<In, Out>(
        {
          kind: 'stream',
          open: () => unixStreamTransport(endpoint, clientSocket(endpoint, native), native),
        },
        merged,
      )
    : channelOf<In, Out>(
        {
          kind: 'message',
          open: () => unixMessageTransport(endpoint, clientSocket(endpoint, native), native),
        },
        merged,
      );
}

function resolvePath(path: string): string {
  return path.startsWith('/') ? path : `${process.cwd()}/${path}`;
}
