/**
 * The project's own errors, each with a stable `code`. System errors keep the kernel's code
 * (`'EAGAIN'`) and come from the native layer; test for both with {@link isSystemError} and
 * `error.code`, never with the message.
 */

/** A frame whose length exceeds `maxFrameSize` (a corrupt or hostile peer), or a message too large to send. */
export class FrameTooLargeError extends RangeError {
  override readonly name = 'FrameTooLargeError';
  readonly code = 'ERR_RXIPC_FRAME_TOO_LARGE';
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends Error {
  override readonly name = 'TruncatedFrameError';
  readonly code = 'ERR_RXIPC_TRUNCATED_FRAME';
}

/** A message could not be framed (for example a newline inside a `line` frame). */
export class FramingError extends TypeError {
  override readonly name = 'FramingError';
  readonly code = 'ERR_RXIPC_FRAMING';
}

/** A bounded buffer was full and the overflow policy is `'error'`. */
export class OverflowError extends Error {
  override readonly name = 'OverflowError';
  readonly code = 'ERR_RXIPC_OVERFLOW';
}

/** The channel was closed; pending sends reject with this. */
export class ChannelClosedError extends Error {
  override readonly name = 'ChannelClosedError';
  readonly code = 'ERR_RXIPC_CHANNEL_CLOSED';
}

/** Bytes from a peer that the codec could not decode. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code = 'ERR_RXIPC_DECODE';
}

/** A message the codec could not encode (for example a value JSON cannot represent). */
export class EncodeError extends TypeError {
  override readonly name = 'EncodeError';
  readonly code = 'ERR_RXIPC_ENCODE';
}

/** An endpoint URI or option that does not parse; the message lists every problem. */
export class InvalidUriError extends TypeError {
  override readonly name = 'InvalidUriError';
  readonly code = 'ERR_INVALID_ARG_VALUE';
  constructor(
    readonly uri: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid endpoint ${JSON.stringify(uri)}: ${problems.join('; ')}`);
  }
}

/** No adapter is registered for a URI's scheme. */
export class UnknownSchemeError extends TypeError {
  override readonly name = 'UnknownSchemeError';
  readonly code = 'ERR_RXIPC_UNKNOWN_SCHEME';
}

/** An error with Node's system-error shape (`code`, `errno`, `syscall`). */
export interface SystemErrorLike extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

/**
 * True when `error` is a system error, and when `code` is given, one with that code.
 *
 * @example
 * ```ts
 * if (isSystemError(error, 'ENOENT')) console.log('no such queue');
 * ```
 */
export function isSystemError(error: unknown, code?: string): error is SystemErrorLike {
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<SystemErrorLike>;
  if (typeof candidate.code !== 'string' || typeof candidate.errno !== 'number') return false;
  if (typeof candidate.syscall !== 'string') return false;
  return code === undefined || candidate.code === code;
}
