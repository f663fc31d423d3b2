/** `tcp://host:port` URIs (`?nodelay=false`; `tcp:?fd=3` for an inherited connected socket). */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';

import { boolParam, intParam, type Parsed, type UriParts, validation } from '../uri/uri.js';

/** A TCP endpoint. */
export interface TcpEndpoint {
  /** Host name or address (IPv6 without brackets); absent with `fd`. */
  readonly host?: string;
  /** Port, 0 .. 65535 (0: let the kernel choose, when listening). */
  readonly port?: number;
  /** An inherited, connected TCP socket to use instead of connecting. */
  readonly fd?: number;
  /** `TCP_NODELAY`: send each write at once instead of waiting to coalesce (Nagle). */
  readonly noDelay: boolean;
  /** How the endpoint is shown in messages and `listen`'s `onListening`. */
  readonly display: string;
}

/** The options a `tcp:` URI takes, besides the common ones. */
export const TCP_OPTIONS = ['nodelay', 'fd'] as const;

const HOST_PORT = /^\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses `tcp://host:port` and its options. */
export function parseTcpUri(parts: UriParts): Parsed<TcpEndpoint> {
  return pipe(
    sequenceS(validation)({
      where: parseWhere(parts),
      noDelay: boolParam(parts, 'nodelay'),
    }),
    E.map(({ where, noDelay }) => ({ ...where, noDelay: noDelay ?? true })),
  );
}

function parseWhere(parts: UriParts): Parsed<Omit<TcpEndpoint, 'noDelay'>> {
  if (parts.params.has('fd')) {
    if (parts.body !== '') return E.left(['tcp: takes //host:port or ?fd=N, not both']);
    return pipe(
      intParam(parts, 'fd', 0, 2 ** 31 - 1),
      E.map((fd) => ({ fd: fd!, display: `tcp:?fd=${fd}` })),
    );
  }
  const match = HOST_PORT.exec(parts.body);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    return E.left([
      `tcp: takes //host:port with a port from 0 to 65535 (tcp://127.0.0.1:7000, tcp://[::1]:7000), got ${JSON.stringify(parts.body)}`,
    ]);
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  return E.right({ host, port, display: `tcp:${parts.body}` });
}
