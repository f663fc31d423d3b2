import * as E from 'fp-ts/lib/Either.js';

import { DecodeError, EncodeError } from '../errors.js';
import type { Codec } from './codec.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON values as UTF-8 text, one value per message. `undefined`, functions and symbols cannot
 * be sent (an `EncodeError`); cycles and BigInts likewise.
 */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw new EncodeError(`the json codec cannot encode this value: ${(cause as Error).message}`);
    }
    if (text === undefined) throw new EncodeError(`the json codec cannot encode ${typeof value}`);
    return encoder.encode(text);
  },
  decode(bytes) {
    try {
      return E.right(JSON.parse(decoder.decode(bytes)) as unknown);
    } catch (cause) {
      return E.left(
        new DecodeError(
          `a message of ${bytes.byteLength} bytes is not JSON: ${(cause as Error).message}`,
        ),
      );
    }
  },
};
