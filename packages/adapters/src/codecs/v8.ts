import * as E from 'fp-ts/lib/Either.js';
import { deserialize, serialize } from 'node:v8';

import { DecodeError, EncodeError } from '../errors.js';
import type { Codec } from './codec.js';

/**
 * Values through V8's structured-clone serializer (`v8.serialize`): Maps, Sets, Dates, typed
 * arrays, BigInts and cycles survive. Only for Node peers of the same or a newer V8.
 * Deserializing bytes from a peer is bounded by the frame size; malformed bytes are a `Left`.
 */
export const v8Codec: Codec<unknown> = {
  name: 'v8',
  encode(value) {
    try {
      return serialize(value);
    } catch (cause) {
      throw new EncodeError(`the v8 codec cannot encode this value: ${(cause as Error).message}`);
    }
  },
  decode(bytes) {
    try {
      return E.right(deserialize(bytes) as unknown);
    } catch (cause) {
      return E.left(
        new DecodeError(
          `a message of ${bytes.byteLength} bytes is not a V8 serialization: ${(cause as Error).message}`,
        ),
      );
    }
  },
};
