/**
 * URI option parsers shared by the FIFO, Unix socket and TCP adapters (and `listen`): file
 * modes, lists of ids, and path bodies. Each returns every problem, as the `uri/` helpers do.
 */
import path from 'node:path';

import * as E from 'fp-ts/lib/Either.js';

import type { Parsed, UriParts } from '../uri/uri.js';

/** An optional permission mode in octal (`mode=0600` or `mode=600`), from 0 to 0o777. */
export function modeParam(parts: UriParts, name = 'mode'): Parsed<number | undefined> {
  const text = parts.params.get(name);
  if (text === undefined) return E.right(undefined);
  if (!/^0?[0-7]{1,3}$/.test(text)) {
    return E.left([
      `option ${name} must be an octal mode from 0 to 0777, got ${JSON.stringify(text)}`,
    ]);
  }
  return E.right(parseInt(text, 8));
}

/** An optional comma-separated list of non-negative integers (`allowUid=1000,1001`). */
export function idListParam(parts: UriParts, name: string): Parsed<readonly number[] | undefined> {
  const text = parts.params.get(name);
  if (text === undefined) return E.right(undefined);
  const ids = text.split(',').map((item) => item.trim());
  if (ids.some((id) => !/^\d{1,10}$/.test(id) || Number(id) > 0xffffffff)) {
    return E.left([
      `option ${name} must be a comma-separated list of numeric ids, got ${JSON.stringify(text)}`,
    ]);
  }
  return E.right(ids.map(Number));
}

/**
 * A file-system path from a URI body: made absolute against the working directory (a relative
 * path would otherwise mean a different file after a `chdir`). Empty, or holding a NUL: a
 * problem.
 */
export function pathBody(parts: UriParts, example: string): Parsed<string> {
  if (parts.body === '') {
    return E.left([`${parts.scheme}: needs a path (${example}), got nothing`]);
  }
  if (parts.body.includes('\0')) {
    return E.left([`${parts.scheme}: a path may not contain a NUL byte`]);
  }
  return E.right(path.resolve(parts.body));
}
