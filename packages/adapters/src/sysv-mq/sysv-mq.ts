/**
 * System V message queues (sysvipc(7)) as channels. `sysvMq()` is the typed door to the
 * `sysv-mq:` scheme, with envelopes that carry each message's type, so one queue can feed
 * several typed streams.
 */
import { type Binding, native } from '@rxipc/native';

import type { Channel, ChannelOptions } from '../channel/channel.js';
import { transportChannel } from '../channel/transport-channel.js';
import type { Codec } from '../codecs/codec.js';
import { rawCodec } from '../codecs/raw.js';
import { InvalidUriError } from '../errors.js';
import { envelopeCodec, MessageTags } from '../internal/envelope.js';
import { knownParams, orThrow, splitUri } from '../uri/uri.js';
import { sysvMqTransport } from './sysv-mq-transport.js';
import { endpointProblems, parseSysvMqUri, SYSV_MQ_OPTIONS, type SysvMqEndpoint } from './uri.js';

/** A received message and its type (with `envelopes: true`). */
export interface SysvMqMessage<T = Uint8Array> {
  readonly data: T;
  /** The positive type the sender gave it. */
  readonly type: number;
}

/** A message to send with its own type (default: the endpoint's `type`, else 1). */
export interface SysvMqOutgoing<T = Uint8Array> {
  readonly data: T;
  readonly type?: number;
}

/** How a {@link sysvMq} channel behaves: the channel's options, plus envelopes. */
export interface SysvMqOptions<T = Uint8Array> extends Omit<ChannelOptions<T>, 'codec'> {
  /** Turns message bytes into values and back (the `data` of envelopes). Default: raw bytes. */
  readonly codec?: Codec<T>;
  /** Emit `{ data, type }` and send `{ data, type? }` instead of bare messages. Default `false`. */
  readonly envelopes?: boolean;
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/**
 * Opens a System V message queue as a {@link Channel}.
 *
 * `target` is a `sysv-mq:` URI (`'sysv-mq:0x1234?msgtyp=2'`; only the queue's own options:
 * channel options go in `options`) or an endpoint object (`{ key: 0x1234, msgtyp: 2 }`).
 * Nothing touches the kernel until the first subscription or send. Then the queue is
 * opened, and created if it does not exist (mode `0o600` unless `mode` says otherwise;
 * `IPC_EXCL` first, so the channel knows the queue is its own); `close()` removes a queue the
 * channel created (`IPC_RMID`) unless `persist: true`.
 *
 * Receiving takes the messages `msgtyp` selects, as msgrcv(2) does: 0 every message in
 * order, `N` only type N, `-N` the lowest type up to N first, and with `except` every type
 * but N. So several channels on one queue, each with its own `msgtyp`, are several typed
 * streams. Outgoing messages have type `type` (default 1), or their own with envelopes.
 * Reading stops while no subscriber has demand; the queue fills (up to its `msg_qbytes`)
 * and the peer's `send` waits. Waiting, both ways, happens in threads the channel owns
 * (never the libuv pool), and `close()` or the last unsubscribe wakes and joins them in
 * milliseconds. If the queue is removed under the channel (`ipcrm -q`), the stream errors
 * with `EIDRM`. A queue has no end of stream: `complete()` sends what is pending and nothing
 * more, and the incoming stream never completes on its own.
 *
 * @example
 * ```ts
 * // One queue, two typed streams: orders are type 1, cancellations type 2.
 * const orders = sysvMq({ key: 0x5151, msgtyp: 1 });
 * const cancels = sysvMq({ key: 0x5151, msgtyp: 2 });
 * const all = sysvMq({ key: 0x5151 }, { envelopes: true });
 * orders.subscribe((bytes) => console.log('order', bytes.byteLength));
 * await all.send({ data: new TextEncoder().encode('cancel 7'), type: 2 });
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI or
 * endpoint, listing every problem.
 * @throws {SystemError} through the channel: `EIDRM` (the queue was removed), `ENOENT`
 * (`create: false` and no such key), `EEXIST` (`exclusive`), `EACCES`, `ENOSPC` (`msgmni`);
 * `ERR_RXIPC_FRAME_TOO_LARGE` for a message longer than `msgmax`.
 */
export function sysvMq<T = Uint8Array>(
  target: string | SysvMqEndpoint,
  options: SysvMqOptions<T> & { readonly envelopes: true },
): Channel<SysvMqMessage<T>, SysvMqOutgoing<T>>;
export function sysvMq<T = Uint8Array>(
  target: string | SysvMqEndpoint,
  options?: SysvMqOptions<T>,
): Channel<T>;
export function sysvMq<T>(
  target: string | SysvMqEndpoint,
  options: SysvMqOptions<T> = {},
): Channel<SysvMqMessage<T>, SysvMqOutgoing<T>> | Channel<T> {
  const endpoint = typeof target === 'string' ? parseUri(target) : checked(target);
  const { binding = native, envelopes = false, codec, ...channelOptions } = options;
  const inner = (codec ?? rawCodec) as Codec<unknown>;
  const types = envelopes ? new MessageTags() : undefined;
  const channelCodec =
    types === undefined
      ? inner
      : envelopeCodec(inner, types, 'type', endpoint.type ?? 1, checkType);
  // The overloads give the channel its types; the codec above makes them true.
  return transportChannel<T>(
    () => sysvMqTransport(endpoint, types === undefined ? { binding } : { binding, types }),
    { ...channelOptions, codec: channelCodec } as ChannelOptions<T>,
  );
}

function parseUri(uri: string): SysvMqEndpoint {
  const parts = orThrow(uri, splitUri(uri));
  if (parts.scheme !== 'sysv-mq') {
    throw new InvalidUriError(uri, [`sysvMq takes a sysv-mq: URI, got ${parts.scheme}:`]);
  }
  orThrow(uri, knownParams(parts, SYSV_MQ_OPTIONS));
  return orThrow(uri, parseSysvMqUri(parts));
}

function checked(endpoint: SysvMqEndpoint): SysvMqEndpoint {
  const problems = endpointProblems(endpoint);
  if (problems.length > 0) throw new InvalidUriError(JSON.stringify(endpoint), problems);
  return endpoint;
}

function checkType(type: number): void {
  if (!Number.isInteger(type) || type < 1 || type > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`a System V message type is an integer from 1 to 2^53-1, got ${type}`);
  }
}
