/** TCP as channels: the typed door to what `open('tcp://host:port')` opens. */
import type { Channel } from '../channel/channel.js';
import { InvalidUriError } from '../errors.js';
import { channelOf, open, type OpenOptions } from '../open.js';
import { connectTcp } from './tcp-adapter.js';

/** Where {@link tcp} connects, and the channel's options. */
export interface TcpConfig<In = Uint8Array, Out = In> extends OpenOptions<In, Out> {
  readonly host: string;
  readonly port: number;
  /** `TCP_NODELAY`. Default: `true` (rxipc coalesces writes itself). */
  readonly noDelay?: boolean;
}

/**
 * Connects over TCP and returns a {@link Channel} with byte-stream framing (`'length'` by
 * default, `'line'`, `'raw'`), exactly as a Unix stream socket's: nothing happens until the
 * first subscription or send; sends wait for the connection; a slow consumer pauses reading so
 * the peer is slowed by TCP's own flow control. `complete()` half-closes (`FIN`); the stream
 * completes when the peer closes. To serve, use `listen('tcp://host:port')`.
 *
 * @example
 * ```ts
 * const channel = tcp({ host: '127.0.0.1', port: 7000, framing: 'line', codec: utf8Codec });
 * await channel.send('hello');
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI, host or port.
 *
 * Failures later arrive on the channel: `ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `ENOTFOUND`
 * (Node's `net` errors, with `code`, `errno`, `syscall`, `address` and `port`).
 */
export function tcp<In = Uint8Array, Out = In>(
  uriOrConfig: string | TcpConfig<In, Out>,
  options: OpenOptions<In, Out> = {},
): Channel<In, Out> {
  if (typeof uriOrConfig === 'string') {
    if (!uriOrConfig.startsWith('tcp:')) {
      throw new InvalidUriError(uriOrConfig, ['tcp() takes a tcp://host:port URI']);
    }
    return open(uriOrConfig, options);
  }
  const { host, port, noDelay = true, ...rest } = uriOrConfig;
  if (
    typeof host !== 'string' ||
    host === '' ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    throw new InvalidUriError(`tcp://${String(host)}:${String(port)}`, [
      'tcp() needs a host and a port from 1 to 65535',
    ]);
  }
  const endpoint = { host, port, noDelay, display: `tcp://${host}:${port}` };
  return channelOf<In, Out>(
    { kind: 'stream', open: () => connectTcp(endpoint) },
    {
      ...rest,
      ...options,
    },
  );
}
