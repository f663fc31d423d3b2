/**
 * `cat access.log | node --import tsx --conditions=@rxipc/source main.ts [--json] [--replicas N]`
 *
 * stdin (line by line, read only as fast as the parsers take it) → parse (N processes) →
 * aggregate (one process) → one summary on stdout.
 */
import { parseArgs } from 'node:util';

import { open, utf8Codec } from '@rxipc/adapters';
import { pipeline, stage } from '@rxipc/core';

import type * as Aggregate from './stages/aggregate.js';
import type { Summary } from './stages/aggregate.js';
import type * as Parse from './stages/parse.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    replicas: { type: 'string', default: '3' },
  },
});

const lines = open<string>('fd:0?framing=line', { codec: utf8Codec });
const summary = pipeline(
  lines,
  stage<typeof Parse>(new URL('./stages/parse.ts', import.meta.url), {
    replicas: Number(values.replicas),
    ordered: false, // the aggregator counts; order does not matter
    restart: { max: 3, backoff: 100 },
  }),
  stage<typeof Aggregate>(new URL('./stages/aggregate.ts', import.meta.url), {
    config: { top: 5 },
  }),
);

summary.events.subscribe((event) => {
  if (event.type === 'crash') process.stderr.write(`log-processing: ${event.error.message}\n`);
});

summary.subscribe({
  next: (result) =>
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : report(result)),
  error: (error: Error) => {
    process.stderr.write(`log-processing: ${error.message}\n`);
    process.exitCode = 1;
    void lines.close();
  },
  complete: () => void lines.close(),
});

function report(s: Summary): string {
  const rows = [
    `requests  ${s.requests} (${s.malformed} malformed lines skipped), ${(s.bytes / 1e6).toFixed(1)} MB sent`,
    `statuses  ${Object.entries(s.byStatus)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ')}`,
    'top paths',
    ...s.topPaths.map(([path, n]) => `  ${String(n).padStart(8)}  ${path}`),
    'top clients',
    ...s.topClients.map(([ip, n]) => `  ${String(n).padStart(8)}  ${ip}`),
  ];
  return `${rows.join('\n')}\n`;
}
