/**
 * Sums up the parsed hits: requests, bytes, hits per status class and per status, the busiest
 * paths and clients. A stream stage: it sees every hit, and emits one summary at the end.
 */
import { defineStage } from '@rxipc/core';
import { map, type Observable, reduce } from 'rxjs';

import type { Parsed } from './parse.js';

export interface Summary {
  readonly requests: number;
  readonly malformed: number;
  readonly bytes: number;
  readonly byStatus: Record<string, number>;
  readonly topPaths: readonly [path: string, hits: number][];
  readonly topClients: readonly [ip: string, hits: number][];
}

interface Tally {
  requests: number;
  malformed: number;
  bytes: number;
  byStatus: Map<number, number>;
  paths: Map<string, number>;
  clients: Map<string, number>;
}

export default defineStage((hits: Observable<Parsed>, context) => {
  const top = (context.config as { top?: number } | undefined)?.top ?? 5;
  return hits.pipe(
    reduce<Parsed, Tally>(
      (tally, hit) => {
        if (!hit.ok) {
          tally.malformed++;
          return tally;
        }
        tally.requests++;
        tally.bytes += hit.bytes;
        bump(tally.byStatus, hit.status);
        bump(tally.paths, hit.path);
        bump(tally.clients, hit.ip);
        return tally;
      },
      {
        requests: 0,
        malformed: 0,
        bytes: 0,
        byStatus: new Map(),
        paths: new Map(),
        clients: new Map(),
      },
    ),
    map((tally): Summary => ({
      requests: tally.requests,
      malformed: tally.malformed,
      bytes: tally.bytes,
      byStatus: Object.fromEntries(
        [...tally.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]),
      ),
      topPaths: busiest(tally.paths, top),
      topClients: busiest(tally.clients, top),
    })),
  );
});

function bump<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The `n` keys with the most hits, ties broken by key, so the result is deterministic. */
function busiest(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts]
    .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .slice(0, n);
}
