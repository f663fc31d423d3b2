/**
 * `mq:` URIs: `mq:/jobs?maxmsg=10&msgsize=8192&priority=5&persist=true`, parsed with fp-ts at
 * the trust boundary; every problem is reported at once.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import { modeParam } from '../internal/mode-param.js';
import {
  boolParam,
  intParam,
  oneOfParam,
  type Parsed,
  type UriParts,
  validation,
} from '../uri/uri.js';

/** Which directions a POSIX queue channel opens. */
export type MqAccess = 'read' | 'write' | 'readwrite';

/** A POSIX message queue endpoint, as parsed from a URI or given to `posixMq()`. */
export interface PosixMqEndpoint {
  /** The queue name: `/` then 1 to 255 characters, no other `/` (mq_overview(7)). */
  readonly name: string;
  /** Create the queue when it does not exist (`O_CREAT`). Default `true`. */
  readonly create?: boolean;
  /** Fail with `EEXIST` when it exists (`O_EXCL`) instead of opening it. Default `false`. */
  readonly exclusive?: boolean;
  /** Permission bits of a queue this channel creates. Default `0o600`. */
  readonly mode?: number;
  /** `mq_maxmsg` of a queue this channel creates. Default: `/proc/sys/fs/mqueue/msg_default`. */
  readonly maxmsg?: number;
  /** `mq_msgsize` of a queue this channel creates. Default: `.../msgsize_default`. */
  readonly msgsize?: number;
  /** The priority of outgoing messages (0 .. 32767; higher is received first). Default `0`. */
  readonly priority?: number;
  /** Keep a queue this channel created after it closes (and after this process). Default `false`. */
  readonly persist?: boolean;
  /** Open for reading, writing or both. Default `'readwrite'`. */
  readonly access?: MqAccess;
}

/** The URI options `mq:` reads besides the common ones. */
export const MQ_OPTIONS = [
  'maxmsg',
  'msgsize',
  'priority',
  'persist',
  'create',
  'exclusive',
  'mode',
  'access',
] as const;

/** The highest POSIX queue priority on Linux (`MQ_PRIO_MAX` - 1). */
export const MQ_MAX_PRIORITY = 32767;

/** Problems with a queue name, or none (the rules of mq_overview(7)). */
export function queueNameProblems(name: string): string[] {
  if (!name.startsWith('/') || name.length < 2) {
    return [`a queue name is / followed by a name (mq:/jobs), got ${JSON.stringify(name)}`];
  }
  const problems: string[] = [];
  if (name.indexOf('/', 1) !== -1)
    problems.push(`a queue name has no / after the first, got ${JSON.stringify(name)}`);
  if (Buffer.byteLength(name) > 256) problems.push('a queue name is at most 255 bytes after the /');
  if (name.includes('\0')) problems.push('a queue name has no NUL character');
  return problems;
}

/**
 * Parses the body and options of an `mq:` URI, reporting every problem at once.
 *
 * @example
 * ```ts
 * parseMqUri(orThrow(uri, splitUri('mq:/jobs?maxmsg=10&priority=3')));
 * // Right({ name: '/jobs', maxmsg: 10, priority: 3 })
 * ```
 */
export function parseMqUri(parts: UriParts): Parsed<PosixMqEndpoint> {
  const nameProblems = queueNameProblems(parts.body);
  return pipe(
    sequenceS(validation)({
      name: nameProblems.length > 0 ? E.left(nameProblems) : E.right(parts.body),
      maxmsg: intParam(parts, 'maxmsg', 1, 2 ** 31 - 1),
      msgsize: intParam(parts, 'msgsize', 1, 2 ** 31 - 1),
      priority: intParam(parts, 'priority', 0, MQ_MAX_PRIORITY),
      persist: boolParam(parts, 'persist'),
      create: boolParam(parts, 'create'),
      exclusive: boolParam(parts, 'exclusive'),
      mode: modeParam(parts),
      access: oneOfParam(parts, 'access', ['read', 'write', 'readwrite'] as const),
    }),
    E.map(
      (endpoint) =>
        Object.fromEntries(
          Object.entries(endpoint).filter(([, value]) => value !== undefined),
        ) as unknown as PosixMqEndpoint,
    ),
  );
}
