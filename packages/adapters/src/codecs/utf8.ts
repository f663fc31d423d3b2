import * as E from 'fp-ts/lib/Either.js';

import { DecodeError, EncodeError } from '../errors.js';
import type { Codec } from './codec.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Strings as UTF-8. Bytes that are not valid UTF-8 decode to a `Left`, never to U+FFFD. */
export const utf8Codec: Codec<string> = {
  name: 'utf8',
  encode(value) {
    if (typeof value !== 'string')
      throw new EncodeError(`the utf8 codec sends strings, got ${typeof value}`);
    return encoder.encode(value);
  },
  decode(bytes) {
    try {
      return E.right(decoder.decode(bytes));
    } catch {
      return E.left(new DecodeError(`a message of ${bytes.byteLength} bytes is not valid UTF-8`));
    }
  },
};
