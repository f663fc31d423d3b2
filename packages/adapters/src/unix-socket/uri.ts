/**
 * `unix:`, `unix-dgram:` and `unix-seqpacket:` URIs: a path (`unix:/run/app.sock`), a name in
 * Linux's abstract namespace (`unix:@app`), or an inherited socket (`unix:?fd=3`), with the
 * options of each type. Every problem is reported at once.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import type { FdHandle, SocketType } from '@rxipc/native';

import { modeParam, pathBody } from '../internal/params.js';
import {
  defined,
  intParam,
  oneOfParam,
  type Parsed,
  type UriParts,
  validation,
} from '../uri/uri.js';

/** A Unix socket endpoint, parsed. */
export interface UnixSocketEndpoint {
  readonly type: SocketType;
  /**
   * The address as the native layer takes it: `'/path'` or `'\0name'` (abstract). Absent when
   * the socket is inherited (`fd`) or given (`handle`).
   */
  readonly address?: string;
  /** How the endpoint is shown in messages: `unix:/run/app.sock`, `unix-dgram:@name`. */
  readonly display: string;
  /** An inherited, connected socket to use instead of connecting (`?fd=3`). */
  readonly fd?: number;
  /** A connected socket to use (from `socketpair`, or received), given in code. */
  readonly handle?: FdHandle;
  /** Permission bits of a socket file this process binds. */
  readonly mode: number;
  /** `listen(2)` backlog. */
  readonly backlog: number;
  /** Descriptors accepted per received message (`SCM_RIGHTS`); 0 refuses them (the kernel closes them). */
  readonly maxFds: number;
  /** `SO_SNDBUF` and `SO_RCVBUF` to ask for (the kernel doubles, and caps them). */
  readonly sndbuf?: number;
  readonly rcvbuf?: number;
  /** Datagram and seqpacket: the largest message. Default: what `SO_SNDBUF` allows. */
  readonly maxMessageSize?: number;
  /** Datagram: an empty datagram marks end of stream (`complete()` sends one). */
  readonly eof: boolean;
}

/** The URI scheme of each socket type. */
export const SCHEMES: Readonly<Record<SocketType, string>> = {
  stream: 'unix',
  dgram: 'unix-dgram',
  seqpacket: 'unix-seqpacket',
};

/** The options each type's URI takes, besides the common ones. */
export function unixOptions(type: SocketType): string[] {
  const common = ['mode', 'backlog', 'maxFds', 'sndbuf', 'rcvbuf', 'fd'];
  if (type === 'stream') return common;
  return [...common, 'maxMessageSize', ...(type === 'dgram' ? ['eof'] : [])];
}

/** Defaults: socket files 0600, backlog 128, no descriptors accepted. */
export const UNIX_DEFAULTS = { mode: 0o600, backlog: 128, maxFds: 0 } as const;

const MAX_BUFFER = 2 ** 31 - 1;

/** Parses a Unix socket URI of the given type. */
export function parseUnixUri(type: SocketType): (parts: UriParts) => Parsed<UnixSocketEndpoint> {
  return (parts) =>
    pipe(
      sequenceS(validation)({
        where: parseWhere(parts),
        mode: modeParam(parts),
        backlog: intParam(parts, 'backlog', 0, 65535),
        maxFds: intParam(parts, 'maxFds', 0, 253),
        sndbuf: intParam(parts, 'sndbuf', 1, MAX_BUFFER),
        rcvbuf: intParam(parts, 'rcvbuf', 1, MAX_BUFFER),
        maxMessageSize: intParam(parts, 'maxMessageSize', 1, MAX_BUFFER),
        eof: oneOfParam(parts, 'eof', ['none', 'empty'] as const),
      }),
      E.map(({ where, mode, backlog, maxFds, sndbuf, rcvbuf, maxMessageSize, eof }) =>
        defined({
          type,
          ...where,
          mode: mode ?? UNIX_DEFAULTS.mode,
          backlog: backlog ?? UNIX_DEFAULTS.backlog,
          maxFds: maxFds ?? UNIX_DEFAULTS.maxFds,
          sndbuf,
          rcvbuf,
          maxMessageSize,
          eof: eof === 'empty',
        }),
      ),
    );
}

type Where = Pick<UnixSocketEndpoint, 'address' | 'display' | 'fd'>;

function parseWhere(parts: UriParts): Parsed<Where> {
  const fdText = parts.params.get('fd');
  if (fdText !== undefined) {
    if (parts.body !== '') {
      return E.left([`${parts.scheme}: takes an address or ?fd=N, not both`]);
    }
    return pipe(
      intParam(parts, 'fd', 0, 2 ** 31 - 1),
      E.map((fd) => ({ fd: fd!, display: `${parts.scheme}:?fd=${fd}` })),
    );
  }
  if (parts.body.startsWith('@')) {
    const name = parts.body.slice(1);
    const bytes = Buffer.byteLength(name);
    if (name === '' || bytes > 107) {
      return E.left([
        `${parts.scheme}: an abstract name is 1 to 107 bytes (${parts.scheme}:@name), got ${bytes}`,
      ]);
    }
    return E.right({ address: `\0${name}`, display: `${parts.scheme}:@${name}` });
  }
  return pipe(
    pathBody(
      parts,
      `${parts.scheme}:/run/app.sock, ${parts.scheme}:@name or ${parts.scheme}:?fd=3`,
    ),
    E.chain((path) =>
      Buffer.byteLength(path) > 107
        ? E.left([
            `${parts.scheme}: a socket path holds at most 107 bytes, ${JSON.stringify(path)} has ${Buffer.byteLength(path)} (use a shorter path or @name)`,
          ])
        : E.right({ address: path, display: `${parts.scheme}:${path}` }),
    ),
  );
}

/** The endpoint's address for people: a path, or `@name`. */
export function addressText(address: string): string {
  return address.startsWith('\0') ? `@${address.slice(1)}` : address;
}
