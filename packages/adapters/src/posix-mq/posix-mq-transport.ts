import {
  type Binding,
  type FdHandle,
  type FdWatcherHandle,
  POLL_READABLE,
  POLL_WRITABLE,
} from '@rxipc/native';

import type { MessageTransport } from '../channel/transport.js';
import { isSystemError } from '../errors.js';
import type { MessageTags } from '../internal/envelope.js';
import { procNumber } from '../internal/proc.js';
import { ReceiveChunks } from '../internal/receive-chunks.js';
import { registerNamedObject } from '../registry/named-objects.js';
import { messageTooLong, mqOpenError } from './errors.js';
import type { PosixMqEndpoint } from './uri.js';

/** How many times opening retries when the queue appears or vanishes between two calls. */
const OPEN_ATTEMPTS = 5;
/** The most messages one native `mqSendMany` call takes (its own limit). */
const SEND_MANY_LIMIT = 1024;

/** Options for {@link posixMqTransport}. */
export interface PosixMqTransportOptions {
  /** The native binding; tests pass a fake kernel. */
  readonly binding: Binding;
  /** Where received messages get their priority and sent ones find theirs (envelopes). */
  readonly priorities?: MessageTags;
}

/**
 * Opens a POSIX message queue as a {@link MessageTransport}: one kernel message is one
 * message, sent with `mq_send` and received with `mq_receive` (highest priority first, as the
 * kernel delivers), both non-blocking and woken by `uv_poll` on the queue descriptor (Linux
 * queue descriptors are pollable), so no thread waits.
 *
 * Opening: with `create` (the default) the queue is created with `O_EXCL` first, so the
 * channel knows whether it created it; if it exists, the existing queue is opened (unless
 * `exclusive`). A queue this channel created is recorded in the registry of named objects
 * and unlinked when it closes, unless `persist`.
 *
 * Buffers: received messages are views of 64 KiB chunks (at least 8 x `msgsize`), packed at
 * their real lengths: a chunk is replaced once it has less than `msgsize` left (mq_receive
 * needs that much room), and lives while any message cut from it does. Nothing is held back:
 * the queue itself is the buffer, and a message leaves it only when `receive` returns it.
 *
 * Cost: sends go to the kernel in batches of at most `maxmsg` (what the queue can take at
 * once) through one native call each, with a `Uint32Array` of `maxmsg` priorities when the
 * channel carries envelopes; a send that found the queue full makes the very next `send`
 * return 0 without asking the kernel again (the engine retries at once, and a full queue
 * stays full until the reader runs), and the writable watcher's next event clears that.
 *
 * @example
 * ```ts
 * // What the mq: adapter does; a plugin or a test can wrap the transport the same way.
 * const channel = transportChannel(() =>
 *   posixMqTransport({ name: '/jobs', maxmsg: 10, msgsize: 1024 }, { binding: native }),
 * );
 * ```
 * @throws {SystemError} `mq_open` errors with a hint naming the limit (`EINVAL`, `EMFILE`,
 * `ENOSPC`, `ENOENT`, `EEXIST`, `EACCES`).
 */
export function posixMqTransport(
  endpoint: PosixMqEndpoint,
  options: PosixMqTransportOptions,
): MessageTransport {
  return new PosixMqTransport(endpoint, options.binding, options.priorities);
}

class PosixMqTransport implements MessageTransport {
  readonly maxMessageSize: number;
  private readonly handle: FdHandle;
  private readonly release: ((removeNow?: boolean) => void) | undefined;
  private readonly received: ReceiveChunks;
  private readonly priority = new Uint32Array(1);
  private readonly defaultPriority: number;
  /** Messages per `mqSendMany` call: the queue's capacity, which is all that can fit at once. */
  private readonly sendSpan: number;
  /** Per-message priorities of one `mqSendMany` call (envelopes only; else one number). */
  private sendPriorities: Uint32Array | undefined;
  /** The last send stopped at a full queue and no writable event came since. */
  private sawFull = false;
  private readonly canRead: boolean;
  private readonly canWrite: boolean;
  private watcher: FdWatcherHandle | undefined;
  private onReadable: (() => void) | null = null;
  private onWritable: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly endpoint: PosixMqEndpoint,
    private readonly binding: Binding,
    private readonly priorities: MessageTags | undefined,
  ) {
    const access = endpoint.access ?? 'readwrite';
    this.canRead = access !== 'write';
    this.canWrite = access !== 'read';
    this.defaultPriority = endpoint.priority ?? 0;
    const { handle, created } = this.openQueue();
    this.handle = handle;
    try {
      const attributes = binding.mqGetAttr(handle);
      this.maxMessageSize = attributes.msgsize;
      this.sendSpan = Math.max(1, Math.min(attributes.maxmsg, SEND_MANY_LIMIT));
      this.received = new ReceiveChunks(this.maxMessageSize);
      if (created && endpoint.persist !== true) {
        const name = endpoint.name;
        this.release = registerNamedObject(
          { kind: 'posix-mq', name, mode: endpoint.mode ?? 0o600 },
          () => unlinkQuietly(binding, name),
        );
      }
    } catch (error) {
      binding.fdClose(handle);
      if (created) unlinkQuietly(binding, endpoint.name);
      throw error;
    }
  }

  private openQueue(): { handle: FdHandle; created: boolean } {
    const { binding, endpoint } = this;
    const { name } = endpoint;
    const access = { read: this.canRead, write: this.canWrite };
    // mq_open takes both attributes or neither; fill a missing one with the system default.
    const attributes =
      endpoint.maxmsg === undefined && endpoint.msgsize === undefined
        ? {}
        : {
            maxmsg: endpoint.maxmsg ?? procNumber('/proc/sys/fs/mqueue/msg_default') ?? 10,
            msgsize: endpoint.msgsize ?? procNumber('/proc/sys/fs/mqueue/msgsize_default') ?? 8192,
          };
    const creating = { ...access, create: true, exclusive: true, mode: endpoint.mode ?? 0o600 };
    try {
      if (endpoint.create === false)
        return { handle: binding.mqOpen(name, access), created: false };
      if (endpoint.exclusive === true) {
        return { handle: binding.mqOpen(name, { ...creating, ...attributes }), created: true };
      }
      // O_EXCL first, so that we know whether the queue is ours; then the existing one. A
      // queue can appear or vanish between the two calls (another process), hence the loop.
      for (let attempt = 1; ; attempt++) {
        try {
          return { handle: binding.mqOpen(name, { ...creating, ...attributes }), created: true };
        } catch (error) {
          if (!isSystemError(error, 'EEXIST')) throw error;
        }
        try {
          return { handle: binding.mqOpen(name, access), created: false };
        } catch (error) {
          if (!isSystemError(error, 'ENOENT') || attempt >= OPEN_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      throw mqOpenError(binding, error, { name, ...attributes });
    }
  }

  check(message: Uint8Array): void {
    if (!this.canWrite) throw directionError(this.endpoint.name, 'write');
    if (message.length > this.maxMessageSize) {
      throw messageTooLong(this.binding, this.endpoint.name, message.length, this.maxMessageSize);
    }
  }

  receive(): Uint8Array | null {
    if (!this.canRead) throw directionError(this.endpoint.name, 'read');
    const { priorities, received } = this;
    const length = this.binding.mqReceive(
      this.handle,
      received.chunk,
      priorities === undefined ? undefined : this.priority,
      received.offset,
    );
    if (length === null) return null;
    const message = received.take(length);
    priorities?.set(message, this.priority[0]!);
    return message;
  }

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (this.sawFull) {
      // The engine calls again at once after a send that stopped short; the queue was full a
      // moment ago, so say so without a system call (a refused mq_send still copies the
      // message into the kernel and frees it). The writable watcher fires if there is room.
      this.sawFull = false;
      return 0;
    }
    const { binding, handle } = this;
    let index = start;
    while (index < end) {
      const stop = Math.min(end, index + this.sendSpan);
      const sent = binding.mqSendMany(
        handle,
        messages,
        index,
        stop,
        this.prioritiesOf(messages, index, stop),
      );
      index += sent;
      if (index < stop) {
        this.sawFull = index > start; // 0 returned: the engine waits for writable at once
        break;
      }
    }
    return index - start;
  }

  /** The priority of `messages[start, stop)`: one number, or one per message (envelopes). */
  private prioritiesOf(
    messages: readonly Uint8Array[],
    start: number,
    stop: number,
  ): number | Uint32Array {
    const { priorities, defaultPriority } = this;
    if (priorities === undefined) return defaultPriority;
    const out = (this.sendPriorities ??= new Uint32Array(this.sendSpan));
    for (let i = start; i < stop; i++)
      out[i - start] = priorities.get(messages[i]!, defaultPriority);
    return out;
  }

  watchReadable(callback: (() => void) | null): void {
    this.onReadable = callback;
    this.updateWatcher();
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    this.updateWatcher();
  }

  /** One uv_poll for both directions (libuv allows one per descriptor and loop). */
  private updateWatcher(): void {
    if (this.closed) return;
    const mask =
      (this.onReadable !== null ? POLL_READABLE : 0) |
      (this.onWritable !== null ? POLL_WRITABLE : 0);
    if (mask === 0) {
      if (this.watcher !== undefined) this.binding.fdWatchStop(this.watcher);
      return;
    }
    this.watcher ??= this.binding.fdWatch(this.handle, (status, events) => {
      if (status < 0 || (events & POLL_WRITABLE) !== 0) this.sawFull = false;
      // An error status stops the poll; both sides then try, and meet the real error.
      if ((status < 0 || (events & POLL_READABLE) !== 0) && this.onReadable !== null)
        this.onReadable();
      if ((status < 0 || (events & POLL_WRITABLE) !== 0) && this.onWritable !== null)
        this.onWritable();
    });
    this.binding.fdWatchStart(this.watcher, mask);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onReadable = null;
    this.onWritable = null;
    try {
      // fdClose closes the watcher first (uv_close), then the descriptor (mq_close).
      this.binding.fdClose(this.handle);
    } finally {
      this.release?.(true);
    }
  }
}

function unlinkQuietly(binding: Binding, name: string): void {
  try {
    binding.mqUnlink(name);
  } catch (error) {
    // Someone else unlinked it already (rxipc clean, another process): it is gone either way.
    if (!isSystemError(error, 'ENOENT')) throw error;
  }
}

function directionError(name: string, direction: 'read' | 'write'): Error {
  return Object.assign(
    new Error(
      `the queue ${name} was opened with access=${direction === 'read' ? 'write' : 'read'}: this channel cannot ${direction}`,
    ),
    { code: direction === 'read' ? 'ERR_RXIPC_WRITE_ONLY' : 'ERR_RXIPC_READ_ONLY' },
  );
}
