import type * as E from 'fp-ts/lib/Either.js';

import type { DecodeError } from '../errors.js';

/**
 * Turns values into bytes and back. `decode` receives bytes from a peer and so never throws:
 * it returns a `Left` that the channel turns into an error or a skipped message, by policy.
 * `encode` may throw an `EncodeError` for a value it cannot represent.
 */
export interface Codec<T> {
  /** A short name, used in URIs (`?codec=json`) and messages. */
  readonly name: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): E.Either<DecodeError, T>;
}
