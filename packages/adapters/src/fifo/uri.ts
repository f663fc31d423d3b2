/**
 * `fifo:` URIs: `fifo:/tmp/jobs?create=false&mode=0660&reopen=true`, parsed with every problem
 * reported at once.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import { modeParam, pathBody } from '../internal/params.js';
import { boolParam, type Parsed, type UriParts, validation } from '../uri/uri.js';

/** A FIFO endpoint: where it is and how to treat it. */
export interface FifoEndpoint {
  /** Absolute path of the FIFO. */
  readonly path: string;
  /** Make the FIFO (`mkfifo`) when it does not exist. */
  readonly create: boolean;
  /** Permission bits of a FIFO this process makes. */
  readonly mode: number;
  /** Keep reading across writers (never complete) instead of completing when the last leaves. */
  readonly reopen: boolean;
}

/** The options a `fifo:` URI takes, besides the common ones. */
export const FIFO_OPTIONS = ['create', 'mode', 'reopen'] as const;

/** Defaults: create the FIFO with mode 0600; complete when the last writer closes. */
export const FIFO_DEFAULTS = { create: true, mode: 0o600, reopen: false } as const;

/** Parses the body and options of a `fifo:` URI. */
export function parseFifoUri(parts: UriParts): Parsed<FifoEndpoint> {
  return pipe(
    sequenceS(validation)({
      path: pathBody(parts, 'fifo:/tmp/jobs'),
      create: boolParam(parts, 'create'),
      mode: modeParam(parts),
      reopen: boolParam(parts, 'reopen'),
    }),
    E.map(({ path, create, mode, reopen }) => ({
      path,
      create: create ?? FIFO_DEFAULTS.create,
      mode: mode ?? FIFO_DEFAULTS.mode,
      reopen: reopen ?? FIFO_DEFAULTS.reopen,
    })),
  );
}
