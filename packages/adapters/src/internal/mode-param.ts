/** The `mode` URI option of the schemes that create named objects. */
import * as E from 'fp-ts/lib/Either.js';

import type { Parsed, UriParts } from '../uri/uri.js';

/** `mode=0644`: octal permission bits, as chmod takes them. */
export function modeParam(parts: UriParts): Parsed<number | undefined> {
  const text = parts.params.get('mode');
  if (text === undefined) return E.right(undefined);
  if (!/^0?[0-7]{1,3}$/.test(text)) {
    return E.left([
      `option mode must be octal permission bits such as 0600, got ${JSON.stringify(text)}`,
    ]);
  }
  return E.right(parseInt(text, 8));
}
