/**
 * Parses one line of an access log in the Common or Combined Log Format:
 * `203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 ...`.
 * A line that does not parse becomes `{ ok: false }`, so the aggregator can count it.
 */
import { defineStage } from '@rxipc/core';

export interface Hit {
  readonly ok: true;
  readonly ip: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
}

export type Parsed = Hit | { readonly ok: false };

const LINE = /^(\S+) \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+)[^"]*" (\d{3}) (\d+|-)/;

export default defineStage({
  map(line: string): Parsed {
    const match = LINE.exec(line);
    if (match === null) return { ok: false };
    const [, ip, method, path, status, bytes] = match;
    return {
      ok: true,
      ip: ip!,
      method: method!,
      // The query string does not make another page.
      path: path!.split('?')[0]!,
      status: Number(status),
      bytes: bytes === '-' ? 0 : Number(bytes),
    };
  },
});
