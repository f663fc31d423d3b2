/**
 * POSIX message queues (mq_overview(7)) as channels. `posixMq()` is the typed door to the
 * `mq:` scheme: the same channel `open('mq:/jobs')` returns, plus envelopes that carry each
 * message's priority.
 */
import { type Binding, native } from '@rxipc/native';

import type { Channel, ChannelOptions } from '../channel/channel.js';
import { transportChannel } from '../channel/transport-channel.js';
import type { Codec } from '../codecs/codec.js';
import { rawCodec } from '../codecs/raw.js';
import { InvalidUriError } from '../errors.js';
import { envelopeCodec, MessageTags } from '../internal/envelope.js';
import { knownParams, orThrow, splitUri } from '../uri/uri.js';
import { posixMqTransport } from './posix-mq-transport.js';
import {
  MQ_MAX_PRIORITY,
  MQ_OPTIONS,
  parseMqUri,
  type PosixMqEndpoint,
  queueNameProblems,
} from './uri.js';

/** A received message and its priority (with `envelopes: true`). */
export interface PosixMqMessage<T = Uint8Array> {
  readonly data: T;
  /** 0 .. 32767; the kernel delivers higher priorities first. */
  readonly priority: number;
}

/** A message to send, with its own priority (default: the endpoint's `priority`, else 0). */
export interface PosixMqOutgoing<T = Uint8Array> {
  readonly data: T;
  readonly priority?: number;
}

/** How a {@link posixMq} channel behaves: the channel's options, plus envelopes. */
export interface PosixMqOptions<T = Uint8Array> extends Omit<ChannelOptions<T>, 'codec'> {
  /** Turns message bytes into values and back (the `data` of envelopes). Default: raw bytes. */
  readonly codec?: Codec<T>;
  /**
   * Emit `{ data, priority }` and send `{ data, priority? }` instead of bare messages.
   * Default `false`.
   */
  readonly envelopes?: boolean;
  /** The native binding (tests pass a fake kernel). */
  readonly binding?: Binding;
}

/**
 * Opens a POSIX message queue as a {@link Channel}.
 *
 * `target` is an `mq:` URI (`'mq:/jobs?maxmsg=10&msgsize=8192'`; only the queue's own
 * options: channel options go in `options`) or an endpoint object. Nothing touches the kernel
 * until the first subscription or send. Then the queue is opened, and created if it does not
 * exist (mode `0o600` unless `mode` says otherwise; `O_EXCL` first, so the channel knows the
 * queue is its own). `close()` closes the descriptor and unlinks a queue the channel created,
 * unless `persist: true`: such a queue, and the messages in it, outlive the process, and a
 * later reader gets them.
 *
 * Incoming messages come highest priority first, oldest first within a priority, as
 * mq_receive(3) delivers them. Reading stops while no subscriber has demand; the queue then
 * fills up (at most `maxmsg` messages), and the peer's `send` waits. `send` resolves when
 * the kernel has accepted the message; when the queue is full it waits (the descriptor is
 * watched with `uv_poll`; no thread is parked). With `envelopes: true` the channel emits
 * `{ data, priority }` and sends `{ data, priority? }`. A queue has no end of stream:
 * `complete()` sends what is pending and nothing more, and the incoming stream never
 * completes on its own (count messages, `take(n)`, or agree on a last message).
 *
 * @example
 * ```ts
 * const jobs = posixMq('mq:/jobs?maxmsg=10&msgsize=1024', { envelopes: true });
 * jobs.subscribe(({ data, priority }) => console.log(priority, data.byteLength));
 * await jobs.send({ data: new TextEncoder().encode('urgent'), priority: 9 });
 * ```
 * @throws {InvalidUriError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI or
 * name, listing every problem.
 * @throws {SystemError} through the channel: `EMSGSIZE` (a message longer than `msgsize`,
 * both sizes named), `mq_open` errors (`EINVAL` naming `/proc/sys/fs/mqueue/msg_max` or
 * `msgsize_max`, `EMFILE` naming `RLIMIT_MSGQUEUE`, `ENOSPC` naming `queues_max`, `ENOENT`,
 * `EEXIST`, `EACCES`).
 */
export function posixMq<T = Uint8Array>(
  target: string | PosixMqEndpoint,
  options: PosixMqOptions<T> & { readonly envelopes: true },
): Channel<PosixMqMessage<T>, PosixMqOutgoing<T>>;
export function posixMq<T = Uint8Array>(
  target: string | PosixMqEndpoint,
  options?: PosixMqOptions<T>,
): Channel<T>;
export function posixMq<T>(
  target: string | PosixMqEndpoint,
  options: PosixMqOptions<T> = {},
): Channel<PosixMqMessage<T>, PosixMqOutgoing<T>> | Channel<T> {
  const endpoint = typeof target === 'string' ? parsePosixMqUri(target) : checked(target);
  const { binding = native, envelopes = false, codec, ...channelOptions } = options;
  const inner = (codec ?? rawCodec) as Codec<unknown>;
  const priorities = envelopes ? new MessageTags() : undefined;
  const channelCodec =
    priorities === undefined
      ? inner
      : envelopeCodec(inner, priorities, 'priority', endpoint.priority ?? 0, checkPriority);
  // The overloads give the channel its types; the codec above makes them true.
  return transportChannel<T>(
    () =>
      posixMqTransport(endpoint, priorities === undefined ? { binding } : { binding, priorities }),
    { ...channelOptions, codec: channelCodec } as ChannelOptions<T>,
  );
}

/** Parses an `mq:` URI with only the queue's own options. */
function parsePosixMqUri(uri: string): PosixMqEndpoint {
  const parts = orThrow(uri, splitUri(uri));
  if (parts.scheme !== 'mq') {
    throw new InvalidUriError(uri, [`posixMq takes an mq: URI, got ${parts.scheme}:`]);
  }
  orThrow(uri, knownParams(parts, MQ_OPTIONS));
  return orThrow(uri, parseMqUri(parts));
}

function checked(endpoint: PosixMqEndpoint): PosixMqEndpoint {
  const problems = queueNameProblems(String(endpoint.name));
  if (endpoint.priority !== undefined) {
    try {
      checkPriority(endpoint.priority);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new InvalidUriError(`mq:${String(endpoint.name)}`, problems);
  return endpoint;
}

function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > MQ_MAX_PRIORITY) {
    throw new RangeError(
      `a POSIX queue priority is an integer from 0 to ${MQ_MAX_PRIORITY}, got ${priority}`,
    );
  }
}
