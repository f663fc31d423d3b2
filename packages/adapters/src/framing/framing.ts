/**
 * How a byte stream (a pipe, a FIFO, a stream socket) carries messages. A framing wraps each
 * payload in a prefix and a suffix on the way out, and its decoder cuts the stream back into
 * payloads on the way in, never allocating more than `maxFrameSize` for one frame.
 */

/** The framings a URI can name with `?framing=`. */
export type FramingName = 'length' | 'line' | 'raw';

/** Default largest frame: 16 MiB. A length above it from a peer is an error, not an allocation. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export interface Framing {
  readonly name: FramingName;
  /** Bytes before each payload; `payloadLength` is already checked. */
  prefixLength: number;
  /** Writes the prefix for a payload of `payloadLength` bytes at `target[offset]`. */
  writePrefix(target: Uint8Array, offset: number, payloadLength: number): void;
  /** Bytes after each payload (the newline of `line`), shared and never written to. */
  readonly suffix: Uint8Array;
  /** Throws `FrameTooLargeError` or `FramingError` when `payload` cannot be framed. */
  check(payload: Uint8Array, maxFrameSize: number): void;
  /** A decoder with its own state, for one incoming stream. */
  decoder(maxFrameSize: number): FrameDecoder;
}

/**
 * Cuts incoming chunks into payloads. Pull-based, so a reader can stop between two frames of
 * one chunk (when its consumer has no demand) and go on later.
 *
 * Holds at most the current chunk plus one partial frame (at most `maxFrameSize` bytes).
 */
export interface FrameDecoder {
  /** Hands over the next chunk; call only when {@link next} has returned `undefined`. */
  push(chunk: Uint8Array): void;
  /** The next complete payload, or `undefined` when more bytes are needed. May throw. */
  next(): Uint8Array | undefined;
  /**
   * Where the next bytes may be read to directly, skipping the chunk: the unfilled rest of a
   * large frame being reassembled, or `undefined`. After reading `n` bytes into it, call
   * {@link filled}. Optional; a decoder without it always takes chunks.
   */
  directTarget?(): Uint8Array | undefined;
  /** Reports `n` bytes read into the last {@link directTarget}. */
  filled?(n: number): void;
  /**
   * At end of stream: the last payload, if the framing allows one without a terminator
   * (`line`), or `undefined`. Throws `TruncatedFrameError` when a frame was cut short.
   */
  end(): Uint8Array | undefined;
}
