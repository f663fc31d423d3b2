import * as E from 'fp-ts/lib/Either.js';

import type { Codec } from './codec.js';

/**
 * Bytes as they are: a message is a `Uint8Array`. The default codec. `decode` returns a view
 * of the received bytes, never a copy.
 */
export const rawCodec: Codec<Uint8Array> = {
  name: 'raw',
  encode(value) {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`the raw codec sends Uint8Array messages, got ${describe(value)}`);
    }
    return value;
  },
  decode: (bytes) => E.right(bytes),
};

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : typeof value === 'object'
      ? value.constructor.name
      : typeof value;
}
