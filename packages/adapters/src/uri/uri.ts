/**
 * Endpoint URIs (`scheme:body?key=value&...`), parsed at the trust boundary with fp-ts:
 * every problem in a URI is collected, then reported at once as one `InvalidUriError`.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';

import { InvalidUriError } from '../errors.js';

/** Everything wrong with a URI, in the order found. */
export type Problems = readonly string[];
/** A value parsed from outside: every problem, or the value. */
export type Parsed<T> = E.Either<Problems, T>;

/** A URI split into its parts; the body and values are percent-decoded. */
export interface UriParts {
  readonly uri: string;
  readonly scheme: string;
  readonly body: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Applicative validation that accumulates problems (`sequenceS(validation)({...})`). */
export const validation = E.getApplicativeValidation(RA.getSemigroup<string>());

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const MAX_URI_LENGTH = 4096;

/** Splits `scheme:body?query`. Fails on a missing or malformed scheme and repeated keys. */
export function splitUri(uri: unknown): Parsed<UriParts> {
  if (typeof uri !== 'string') return E.left([`expected a URI string, got ${typeof uri}`]);
  if (uri.length > MAX_URI_LENGTH) return E.left([`a URI is at most ${MAX_URI_LENGTH} characters`]);
  const colon = uri.indexOf(':');
  const scheme = colon === -1 ? '' : uri.slice(0, colon);
  if (!SCHEME.test(scheme)) {
    return E.left([
      `expected scheme:address (for example fd:0 or pipe:), got ${JSON.stringify(uri)}`,
    ]);
  }
  const rest = uri.slice(colon + 1);
  const question = rest.indexOf('?');
  const rawBody = question === -1 ? rest : rest.slice(0, question);
  const problems: string[] = [];
  const params = new Map<string, string>();
  if (question !== -1) {
    for (const [key, value] of new URLSearchParams(rest.slice(question + 1))) {
      if (params.has(key)) problems.push(`option ${key} is given twice`);
      params.set(key, value);
    }
  }
  let body = rawBody;
  try {
    body = decodeURIComponent(rawBody);
  } catch {
    problems.push(`the address ${JSON.stringify(rawBody)} has a malformed percent-escape`);
  }
  return problems.length > 0 ? E.left(problems) : E.right({ uri, scheme, body, params });
}

/** Reports options the scheme does not know, naming the ones it does. */
export function knownParams(parts: UriParts, known: readonly string[]): Parsed<void> {
  const unknown = [...parts.params.keys()].filter((key) => !known.includes(key));
  if (unknown.length === 0) return E.right(undefined);
  return E.left(
    unknown.map((key) => `unknown option ${key} for ${parts.scheme}: (known: ${known.join(', ')})`),
  );
}

/** An optional integer option within `[min, max]`. */
export function intParam(
  parts: UriParts,
  name: string,
  min: number,
  max: number,
): Parsed<number | undefined> {
  const text = parts.params.get(name);
  if (text === undefined) return E.right(undefined);
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    return E.left([
      `option ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    ]);
  }
  return E.right(value);
}

/** An optional boolean option: `true`/`false`/`1`/`0`. */
export function boolParam(parts: UriParts, name: string): Parsed<boolean | undefined> {
  const text = parts.params.get(name);
  if (text === undefined) return E.right(undefined);
  if (text === 'true' || text === '1') return E.right(true);
  if (text === 'false' || text === '0') return E.right(false);
  return E.left([`option ${name} must be true or false, got ${JSON.stringify(text)}`]);
}

/** An optional option from a fixed set of words. */
export function oneOfParam<T extends string>(
  parts: UriParts,
  name: string,
  choices: readonly T[],
): Parsed<T | undefined> {
  const text = parts.params.get(name);
  if (text === undefined) return E.right(undefined);
  if ((choices as readonly string[]).includes(text)) return E.right(text as T);
  return E.left([
    `option ${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`,
  ]);
}

/** The value, or one `InvalidUriError` listing every problem. */
export function orThrow<T>(uri: string, parsed: Parsed<T>): T {
  if (E.isLeft(parsed)) throw new InvalidUriError(uri, parsed.left);
  return parsed.right;
}

/** Drops the keys whose value is `undefined` (for `exactOptionalPropertyTypes`). */
export function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
