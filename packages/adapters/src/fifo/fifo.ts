/**
 * Named pipes (fifo(7)) as channels: the typed door to what `open('fifo:/path')` opens.
 */
import type { Channel } from '../channel/channel.js';
import { InvalidUriError } from '../errors.js';
import { channelOf, open, type OpenOptions } from '../open.js';
import { orThrow } from '../uri/uri.js';
import { fifoTransport } from './fifo-transport.js';
import { FIFO_DEFAULTS, type FifoEndpoint, parseFifoUri } from './uri.js';

/** A FIFO and the channel's options, for {@link fifo}. */
export interface FifoConfig<In = Uint8Array, Out = In> extends OpenOptions<In, Out> {
  /** Where the FIFO is; a relative path is taken from the working directory. */
  readonly path: string;
  /** Make the FIFO when it does not exist. Default: `true`. */
  readonly create?: boolean;
  /** Permission bits of a FIFO this channel makes (exactly these: the umask is undone). Default `0o600`. */
  readonly mode?: number;
  /**
   * Keep reading when the last writer closes, for the next one (a daemon), instead of
   * completing. Default: `false`. The writers' bytes then form one stream: a writer that dies
   * in the middle of a frame leaves a partial frame that the next writer's bytes continue, so
   * writers should write whole frames at once (as `echo` writes whole lines).
   */
  readonly reopen?: boolean;
}

/**
 * Opens a named pipe as a {@link Channel}: an `Observable` of what writers send, and an
 * `Observer` that writes into it. Byte-stream framing applies (`framing: 'length'` by
 * default; `'line'` and `'raw'` for shell peers such as `echo` and `cat`).
 *
 * Nothing happens until the first subscription or send. Then the FIFO is made (`mkfifo`,
 * mode 0600) unless it exists. Subscribing opens the read end without waiting for a writer,
 * and the stream completes when the last writer closes, unless `reopen` keeps it listening
 * for the next. The first send opens the write end, and waits (without blocking the event
 * loop) until some process opens the FIFO for reading. `close()` closes both ends and
 * removes the FIFO if this channel made it. A FIFO made here is recorded in the registry of
 * named objects and removed at exit if the channel was never closed.
 *
 * @example
 * ```ts
 * // shell: echo hello > /tmp/jobs
 * fifo({ path: '/tmp/jobs', framing: 'line', codec: utf8Codec }).subscribe(console.log);
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI or path.
 * @throws {RangeError} `mode` outside 0 .. 0o777.
 *
 * Failures later arrive on the channel (a subscriber error, a rejected send): `ENOENT` (no
 * FIFO and `create: false`), `EACCES`, `EINVAL` (the path is something else than a FIFO),
 * and `EPIPE` when writing after the last reader left.
 */
export function fifo<In = Uint8Array, Out = In>(
  uriOrConfig: string | FifoConfig<In, Out>,
  options: OpenOptions<In, Out> = {},
): Channel<In, Out> {
  if (typeof uriOrConfig === 'string') {
    if (!uriOrConfig.startsWith('fifo:')) {
      throw new InvalidUriError(uriOrConfig, ['fifo() takes a fifo: URI']);
    }
    return open(uriOrConfig, options);
  }
  const { path, create, mode, reopen, ...rest } = uriOrConfig;
  const uri = `fifo:${String(path)}`;
  const parsed = orThrow(
    uri,
    parseFifoUri({ uri, scheme: 'fifo', body: String(path), params: new Map() }),
  );
  const endpoint: FifoEndpoint = {
    path: parsed.path,
    create: create ?? FIFO_DEFAULTS.create,
    mode: checkMode(mode ?? FIFO_DEFAULTS.mode),
    reopen: reopen ?? FIFO_DEFAULTS.reopen,
  };
  return channelOf<In, Out>(
    { kind: 'stream', open: () => fifoTransport(endpoint) },
    {
      ...rest,
      ...options,
    },
  );
}

function checkMode(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new RangeError(`mode must be an integer from 0 to 0o777, got ${String(mode)}`);
  }
  return mode;
}
