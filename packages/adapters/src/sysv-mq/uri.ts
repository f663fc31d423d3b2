/**
 * `sysv-mq:` URIs, parsed with fp-ts at the trust boundary:
 * - `sysv-mq:0x1234` (or decimal `sysv-mq:4660`): the queue of that key;
 * - `sysv-mq:/path/to/file?project=7`: the key `ftok(3)` makes of an existing file and a
 *   project id (default 1);
 * - `sysv-mq:private`: a new queue with no key (`IPC_PRIVATE`), for this process and the
 *   children it tells the identifier;
 * - `sysv-mq:id:5`: an existing queue by identifier (what `ipcs -q` lists, and what a child
 *   of a `private` queue's owner gets).
 * Options: `type` (outgoing messages' type, default 1), `msgtyp` and `except` (which
 * messages this channel receives, as msgrcv(2) selects them), `create`, `exclusive`, `mode`,
 * `persist`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import { modeParam } from '../internal/mode-param.js';
import { boolParam, intParam, type Parsed, type UriParts, validation } from '../uri/uri.js';

/** A System V message queue endpoint: one of `key`, `path`, `id` or `private`, and options. */
export interface SysvMqEndpoint {
  /** The queue's key, a 32-bit value other than 0 (`0x1234`). */
  readonly key?: number;
  /** An existing file whose `ftok(3)` key, with `project`, names the queue. */
  readonly path?: string;
  /** The `ftok` project id, 1 .. 255. Default 1. */
  readonly project?: number;
  /** An existing queue's identifier (`ipcs -q`'s msqid). */
  readonly id?: number;
  /** A new queue without a key (`IPC_PRIVATE`), to share with children by identifier. */
  readonly private?: boolean;
  /** Create the queue of a key or path when it does not exist. Default `true`. */
  readonly create?: boolean;
  /** Fail with `EEXIST` when it exists (`IPC_EXCL`) instead of opening it. Default `false`. */
  readonly exclusive?: boolean;
  /** Permission bits of a queue this channel creates. Default `0o600`. */
  readonly mode?: number;
  /** Keep a queue this channel created after it closes. Default `false` (removed on close). */
  readonly persist?: boolean;
  /** The type of outgoing messages: 1 .. 2^53-1. Default 1. */
  readonly type?: number;
  /**
   * Which messages this channel receives, as msgrcv(2)'s `msgtyp`: 0 (default) every message
   * in order, `N > 0` only type N, `-N` the lowest type <= N first.
   */
  readonly msgtyp?: number;
  /** With a positive `msgtyp`: every message except that type (`MSG_EXCEPT`). */
  readonly except?: boolean;
}

/** The URI options `sysv-mq:` reads besides the common ones. */
export const SYSV_MQ_OPTIONS = [
  'type',
  'msgtyp',
  'except',
  'create',
  'exclusive',
  'mode',
  'persist',
  'project',
] as const;

const MAX_TYPE = Number.MAX_SAFE_INTEGER;

/**
 * Parses the body and options of a `sysv-mq:` URI, reporting every problem at once.
 *
 * @example
 * ```ts
 * parseSysvMqUri(orThrow(uri, splitUri('sysv-mq:0x1234?msgtyp=-5')));
 * // Right({ key: 4660, msgtyp: -5 })
 * ```
 */
export function parseSysvMqUri(parts: UriParts): Parsed<SysvMqEndpoint> {
  return pipe(
    sequenceS(validation)({
      address: parseAddress(parts),
      type: intParam(parts, 'type', 1, MAX_TYPE),
      msgtyp: intParam(parts, 'msgtyp', -MAX_TYPE, MAX_TYPE),
      except: boolParam(parts, 'except'),
      create: boolParam(parts, 'create'),
      exclusive: boolParam(parts, 'exclusive'),
      mode: modeParam(parts),
      persist: boolParam(parts, 'persist'),
    }),
    E.chain(({ address, ...options }) => {
      const endpoint = { ...address, ...withoutUndefined(options) } as SysvMqEndpoint;
      const problems = endpointProblems(endpoint);
      return problems.length > 0 ? E.left(problems) : E.right(endpoint);
    }),
  );
}

/** Everything wrong with an endpoint given as an object (the URI parser checks the same). */
export function endpointProblems(endpoint: SysvMqEndpoint): string[] {
  const problems: string[] = [];
  const addresses = [
    endpoint.key !== undefined,
    endpoint.path !== undefined,
    endpoint.id !== undefined,
    endpoint.private === true,
  ].filter(Boolean).length;
  if (addresses !== 1) problems.push('give exactly one of key, path, id or private');
  if (endpoint.key !== undefined && !isKey(endpoint.key))
    problems.push(`a key is a 32-bit value other than 0 (IPC_PRIVATE), got ${endpoint.key}`);
  if (endpoint.id !== undefined && !(Number.isInteger(endpoint.id) && endpoint.id >= 0))
    problems.push(`an identifier is a non-negative integer, got ${endpoint.id}`);
  if (endpoint.project !== undefined && !isInteger(endpoint.project, 1, 255))
    problems.push(`an ftok project id is an integer from 1 to 255, got ${endpoint.project}`);
  if (endpoint.type !== undefined && !isInteger(endpoint.type, 1, MAX_TYPE))
    problems.push(`a message type is an integer from 1 to 2^53-1, got ${endpoint.type}`);
  if (endpoint.msgtyp !== undefined && !isInteger(endpoint.msgtyp, -MAX_TYPE, MAX_TYPE))
    problems.push(`msgtyp is an integer, got ${endpoint.msgtyp}`);
  if (endpoint.except === true && !((endpoint.msgtyp ?? 0) > 0))
    problems.push('except=true needs a positive msgtyp (MSG_EXCEPT skips that one type)');
  return problems;
}

function parseAddress(parts: UriParts): Parsed<Partial<SysvMqEndpoint>> {
  const body = parts.body;
  const project = intParam(parts, 'project', 1, 255);
  if (body.startsWith('/')) {
    return E.map((p: number | undefined) => ({
      path: body,
      ...(p === undefined ? {} : { project: p }),
    }))(project);
  }
  if (parts.params.has('project')) {
    return E.left(['option project goes with a path (sysv-mq:/path/to/file?project=7)']);
  }
  if (body === 'private') return E.right({ private: true });
  const id = /^id:(\d{1,10})$/.exec(body);
  if (id !== null) return E.right({ id: Number(id[1]) });
  if (/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(body)) return E.right({ key: Number(body) });
  return E.left([
    `sysv-mq: takes a key (0x1234), a path (/etc/app?project=1), private, or id:N, got ${JSON.stringify(body)}`,
  ]);
}

function isKey(key: number): boolean {
  return Number.isInteger(key) && key !== 0 && key >= -(2 ** 31) && key <= 2 ** 32 - 1;
}

function isInteger(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How a queue is named in messages and in the registry: `0x00001234`, or `id:5`. */
export function keyLabel(key: number): string {
  return `0x${(key >>> 0).toString(16).padStart(8, '0')}`;
}
