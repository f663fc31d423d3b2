import type { Binding, SysvMsgHandle, WaiterHandle } from '@rxipc/native';

import type { MessageTransport } from '../channel/transport.js';
import { FrameTooLargeError, isSystemError } from '../errors.js';
import type { MessageTags } from '../internal/envelope.js';
import { procNumber } from '../internal/proc.js';
import { ReceiveChunks } from '../internal/receive-chunks.js';
import { registerNamedObject } from '../registry/named-objects.js';
import { callError, openError } from './errors.js';
import { keyLabel, type SysvMqEndpoint } from './uri.js';

/** How many times opening retries when the queue appears or vanishes between two calls. */
const OPEN_ATTEMPTS = 5;
/** The most messages one native `msgsndMany` call takes (its own limit). */
const SEND_MANY_LIMIT = 1024;

/** Options for {@link sysvMqTransport}. */
export interface SysvMqTransportOptions {
  /** The native binding; tests pass a fake kernel. */
  readonly binding: Binding;
  /** Where received messages get their type and sent ones find theirs (envelopes). */
  readonly types?: MessageTags;
}

/**
 * Opens a System V message queue as a {@link MessageTransport}: one `msgsnd` is one message,
 * and `msgrcv` takes the messages `msgtyp`/`except` select, in the kernel's order.
 *
 * A System V queue has no descriptor to poll, so every call on the event loop uses
 * `IPC_NOWAIT`, and waiting happens in native threads the transport owns (never the libuv
 * pool): a receive waiter that peeks (blocks in `msgrcv` until a selected message is there,
 * without taking it) while the channel wants messages and the queue has none, and a send
 * waiter that holds the one message that found the queue full and sends it with a blocking
 * `msgsnd` (one thread, reused each time the queue is full). Closing wakes both (a signal interrupts the call) and joins them in milliseconds;
 * the message a send waiter held is then not sent, and its `send` rejects.
 *
 * A queue this channel created (a key that did not exist, or `private`) is recorded in the
 * registry of named objects and removed on close (`IPC_RMID`) unless `persist`. A queue
 * removed under the channel (`ipcrm -q`) ends it with `EIDRM`.
 *
 * Buffers: received messages are views of 64 KiB chunks (at least 8 x `msgmax`), packed at
 * their real lengths; a chunk is replaced once it has less than `msgmax` left, and lives
 * while any message cut from it does. Outgoing: at most one message, copied into the send
 * waiter. A message leaves the kernel only when `receive` returns it (one `msgrcv` per
 * message, never a batch), so nothing is held when a subscriber leaves.
 *
 * Cost: sends go to the kernel in batches (up to 1024 messages, stopping where the queue is
 * full) through one native call each, with a `Float64Array` of types when the channel carries
 * envelopes; a receive writes into the current chunk at an offset, so an empty queue costs no
 * view, and the type is read back only with envelopes.
 *
 * @example
 * ```ts
 * const channel = transportChannel(() =>
 *   sysvMqTransport({ key: 0x1234, msgtyp: 2 }, { binding: native }),
 * );
 * ```
 * @throws {SystemError} `msgget`/`ftok`/`msgctl` errors with a hint (`ENOENT`, `EEXIST`,
 * `EACCES`, `ENOSPC` naming msgmni), when the transport is opened.
 */
export function sysvMqTransport(
  endpoint: SysvMqEndpoint,
  options: SysvMqTransportOptions,
): MessageTransport {
  return new SysvMqTransport(endpoint, options.binding, options.types);
}

class SysvMqTransport implements MessageTransport {
  readonly maxMessageSize: number;
  private readonly handle: SysvMsgHandle;
  private readonly label: string;
  private readonly release: ((removeNow?: boolean) => void) | undefined;
  private readonly receiveRoom: number;
  private readonly received: ReceiveChunks;
  private readonly receivedType = new Float64Array(1);
  private readonly msgtyp: number;
  private readonly selector: { readonly except?: boolean } | undefined;
  private readonly defaultType: number;
  private failure: unknown;
  private closed = false;

  private recvWaiter: WaiterHandle | undefined;
  private recvArmed = false;
  private onReadable: (() => void) | null = null;

  /** Per-message types of one `msgsndMany` call (envelopes only; else one number). */
  private sendTypes: Float64Array | undefined;
  private sendWaiter: WaiterHandle | undefined;
  private inFlight: { readonly message: Uint8Array; done: boolean } | undefined;
  private onWritable: (() => void) | null = null;

  constructor(
    private readonly endpoint: SysvMqEndpoint,
    private readonly binding: Binding,
    private readonly types: MessageTags | undefined,
  ) {
    this.msgtyp = endpoint.msgtyp ?? 0;
    this.selector = endpoint.except === true ? { except: true } : undefined;
    this.defaultType = endpoint.type ?? 1;
    const { handle, created, label } = this.openQueue();
    this.handle = handle;
    this.label = label;
    try {
      const stat = binding.msgStat(handle);
      // msgsnd(2): EINVAL when "msgsz is greater than the system limit (MSGMAX)"; and a
      // message larger than the queue's msg_qbytes could never fit.
      this.maxMessageSize = Math.min(procNumber('/proc/sys/kernel/msgmax') ?? 8192, stat.maxBytes);
      // Room for the longest message there can be (a C peer is bound by msgmax too).
      this.receiveRoom = procNumber('/proc/sys/kernel/msgmax') ?? 8192;
      this.received = new ReceiveChunks(this.receiveRoom);
      if (created && endpoint.persist !== true) {
        this.release = registerNamedObject(
          { kind: 'sysv-mq', name: label, mode: endpoint.mode ?? 0o600 },
          () => this.remove(),
        );
      }
    } catch (error) {
      if (created) this.remove();
      binding.msgClose(handle);
      throw openError(binding, error, label);
    }
  }

  private openQueue(): { handle: SysvMsgHandle; created: boolean; label: string } {
    const { binding, endpoint } = this;
    const mode = endpoint.mode ?? 0o600;
    if (endpoint.id !== undefined) {
      const label = `id:${endpoint.id}`;
      try {
        return { handle: binding.msgOpenId(endpoint.id), created: false, label };
      } catch (error) {
        throw openError(binding, error, label);
      }
    }
    if (endpoint.private === true) {
      try {
        const handle = binding.msgget(0, { create: true, mode });
        return { handle, created: true, label: `id:${binding.msgId(handle)}` };
      } catch (error) {
        throw openError(binding, error, 'private');
      }
    }
    let key = endpoint.key ?? 0;
    let label = keyLabel(key);
    try {
      if (endpoint.path !== undefined) {
        label = endpoint.path;
        key = binding.ftok(endpoint.path, endpoint.project ?? 1);
        label = keyLabel(key);
      }
      if (endpoint.create === false) return { handle: binding.msgget(key), created: false, label };
      const creating = { create: true, exclusive: true, mode };
      if (endpoint.exclusive === true) {
        return { handle: binding.msgget(key, creating), created: true, label };
      }
      // IPC_EXCL first, so that we know whether the queue is ours; then the existing one.
      for (let attempt = 1; ; attempt++) {
        try {
          return { handle: binding.msgget(key, creating), created: true, label };
        } catch (error) {
          if (!isSystemError(error, 'EEXIST')) throw error;
        }
        try {
          return { handle: binding.msgget(key), created: false, label };
        } catch (error) {
          if (!isSystemError(error, 'ENOENT') || attempt >= OPEN_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      throw openError(binding, error, label);
    }
  }

  check(message: Uint8Array): void {
    if (message.byteLength > this.maxMessageSize) {
      throw new FrameTooLargeError(
        `a message of ${message.byteLength} bytes exceeds the ${this.maxMessageSize} bytes a System V queue message can have here (msgmax, /proc/sys/kernel/msgmax, and the queue's msg_qbytes)`,
      );
    }
  }

  // ---- receiving -------------------------------------------------------------------------

  receive(): Uint8Array | null {
    if (this.failure !== undefined) throw this.failure;
    const { types, received } = this;
    let length: number | null;
    try {
      // An offset, not a subarray: no view is made for a receive that finds the queue empty;
      // and the type is asked for only when envelopes need it.
      length = this.binding.msgrcv(
        this.handle,
        received.chunk,
        this.msgtyp,
        this.selector,
        types === undefined ? undefined : this.receivedType,
        received.offset,
      );
    } catch (error) {
      throw this.callError(error);
    }
    if (length === null) {
      // Level-triggered, as a descriptor would be: still watched, so wait again.
      if (this.onReadable !== null) this.armReceiver();
      return null;
    }
    const message = received.take(length);
    types?.set(message, this.receivedType[0]!);
    return message;
  }

  watchReadable(callback: (() => void) | null): void {
    if (this.closed) return;
    this.onReadable = callback;
    if (callback !== null) {
      this.armReceiver();
    } else if (this.recvArmed) {
      // An armed waiter keeps the process alive: a channel nobody reads must not.
      this.closeReceiver();
    }
  }

  private armReceiver(): void {
    if (this.recvArmed || this.closed) return;
    this.recvArmed = true;
    if (this.recvWaiter === undefined) {
      this.recvWaiter = this.binding.msgRecvWaiter(
        this.handle,
        this.msgtyp,
        this.selector,
        (error) => this.onReceiverReport(error),
      );
    } else {
      this.binding.waiterArm(this.recvWaiter);
    }
  }

  private onReceiverReport(error: unknown): void {
    this.recvArmed = false;
    if (error !== null) this.failure ??= this.callError(error);
    // The channel receives until null (which re-arms), or stops watching.
    this.onReadable?.();
  }

  private closeReceiver(): void {
    if (this.recvWaiter !== undefined) this.binding.waiterClose(this.recvWaiter);
    this.recvWaiter = undefined;
    this.recvArmed = false;
  }

  // ---- sending ---------------------------------------------------------------------------

  send(messages: readonly Uint8Array[], start: number, end: number): number {
    if (this.failure !== undefined) throw this.failure;
    let index = start;
    if (this.inFlight !== undefined) {
      if (!this.inFlight.done) return 0;
      // The send waiter delivered the first message: count it now.
      if (messages[start] === this.inFlight.message) index++;
      this.inFlight = undefined;
    }
    const { binding, handle } = this;
    while (index < end) {
      const stop = Math.min(end, index + SEND_MANY_LIMIT);
      let sent: number;
      try {
        sent = binding.msgsndMany(
          handle,
          messages,
          index,
          stop,
          this.typesOf(messages, index, stop),
        );
      } catch (error) {
        throw this.callError(error);
      }
      index += sent;
      if (index < stop) {
        // Full (or a later message failed, which the send waiter then meets and reports): a
        // thread of ours sends it with a blocking msgsnd and tells us when it went.
        const message = messages[index]!;
        this.startSender(message, this.typeOf(message));
        break;
      }
    }
    return index - start;
  }

  /** The type of `messages[start, stop)`: one number, or one per message (envelopes). */
  private typesOf(
    messages: readonly Uint8Array[],
    start: number,
    stop: number,
  ): number | Float64Array {
    const { types, defaultType } = this;
    if (types === undefined) return defaultType;
    const out = (this.sendTypes ??= new Float64Array(SEND_MANY_LIMIT));
    for (let i = start; i < stop; i++) out[i - start] = types.get(messages[i]!, defaultType);
    return out;
  }

  private typeOf(message: Uint8Array): number {
    const { types, defaultType } = this;
    return types === undefined ? defaultType : types.get(message, defaultType);
  }

  private startSender(message: Uint8Array, type: number): void {
    this.inFlight = { message, done: false };
    if (this.sendWaiter !== undefined) {
      // The thread from the last time the queue was full: give it this message.
      this.binding.msgSendWaiterLoad(this.sendWaiter, type, message);
      return;
    }
    this.sendWaiter = this.binding.msgSendWaiter(this.handle, type, message, (error) => {
      const current = this.inFlight;
      if (error !== null) this.failure ??= this.callError(error);
      else if (current !== undefined) current.done = true;
      this.onWritable?.();
    });
  }

  watchWritable(callback: (() => void) | null): void {
    this.onWritable = callback;
    if (callback !== null && (this.inFlight?.done === true || this.failure !== undefined)) {
      queueMicrotask(() => this.onWritable?.());
    }
  }

  // ---- closing ---------------------------------------------------------------------------

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onReadable = null;
    this.onWritable = null;
    try {
      // The threads first (woken and joined), so that removal cannot wake them with EIDRM.
      this.closeReceiver();
      if (this.sendWaiter !== undefined) this.binding.waiterClose(this.sendWaiter);
      this.sendWaiter = undefined;
      this.release?.(true);
    } finally {
      this.binding.msgClose(this.handle);
    }
  }

  private remove(): void {
    try {
      this.binding.msgRmid(this.handle);
    } catch (error) {
      // Removed already (ipcrm, rxipc clean): gone either way.
      if (!isSystemError(error, 'EINVAL') && !isSystemError(error, 'EIDRM')) throw error;
    }
  }

  private callError(error: unknown): unknown {
    return callError(this.binding, error, this.label, () => {
      try {
        this.binding.msgStat(this.handle);
        return true;
      } catch {
        return false;
      }
    });
  }
}
