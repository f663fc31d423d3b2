/**
 * What an adapter implements: a non-blocking view of one kernel object. The channel engine
 * (`transportChannel`) adds everything else: codecs, flow control, multicast, async
 * iteration. Built-in adapters and plugins implement the same two interfaces.
 *
 * Every method is called on the event loop and must never block. Errors are thrown and end
 * the channel; they should have the system-error shape where they come from the kernel.
 */
import type { Framing } from '../framing/framing.js';

/** Returned by {@link MessageTransport.receive} at end of stream. */
export const END: unique symbol = Symbol('rxipc.end');

/** A transport that keeps message boundaries (a queue, a datagram socket, a framed stream). */
export interface MessageTransport {
  /** The largest payload `send` accepts; larger is refused before it reaches the kernel. */
  readonly maxMessageSize: number;
  /**
   * Throws (`FrameTooLargeError`, `FramingError`, ...) when `message` can never be sent.
   * Called once per message, before it is queued.
   */
  check(message: Uint8Array): void;
  /** The next message, `null` when none is available now, or {@link END}. */
  receive(): Uint8Array | null | typeof END;
  /**
   * Calls `callback` (level-triggered) while a `receive` may succeed; `null` stops.
   * Transports without a descriptor wake from a thread they own.
   */
  watchReadable(callback: (() => void) | null): void;
  /**
   * Hands messages `[start, end)` to the kernel without blocking; returns how many were
   * accepted whole. A message it accepted only in part is presented again, first, next time.
   */
  send(messages: readonly Uint8Array[], start: number, end: number): number;
  /** Calls `callback` while a `send` may make progress; `null` stops. */
  watchWritable(callback: (() => void) | null): void;
  /** No more sends: the peer sees end of stream where the mechanism has one. Optional. */
  endWrite?(): void;
  /** Releases the kernel object (and unlinks it, if ours). Called once. */
  close(): void | Promise<void>;
}

/** A transport that carries bytes without boundaries (a pipe, a FIFO, a stream socket). */
export interface ByteStreamTransport {
  /** Reads into `target`: the byte count, `0` at end of stream, `null` when nothing is there. */
  read(target: Uint8Array): number | null;
  /** Writes the views in order: the byte count (maybe partial), or `null` when none fit. */
  writev(chunks: readonly Uint8Array[]): number | null;
  watchReadable(callback: (() => void) | null): void;
  watchWritable(callback: (() => void) | null): void;
  endWrite?(): void;
  close(): void | Promise<void>;
  /**
   * Optional, for byte streams that carry more than bytes (descriptors passed on a Unix
   * socket): given the framed transport that `open` built on this stream with `framing`,
   * returns the transport the channel uses instead (usually a wrapper around `framed`).
   */
  wrapFramed?(framed: MessageTransport, framing: Framing): MessageTransport;
}
