import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { processesWithEnv } from '../../packages/core/test/support.js';
import type { Summary } from './stages/aggregate.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const NODE = `'${process.execPath}' --import tsx --conditions=@rxipc/source '${MAIN}'`;

/** A deterministic access log of `n` lines, one in a hundred of them malformed. */
function makeLog(n: number): string[] {
  const paths = ['/', '/index.html', '/about', '/api/cart?x=1', '/static/app.js', '/login'];
  const statuses = [200, 200, 200, 304, 404, 500];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 100 === 42) {
      lines.push(`garbage line ${i}`);
      continue;
    }
    const status = statuses[(i * 7) % statuses.length]!;
    const bytes = status === 304 ? '-' : String((i * 37) % 5000);
    lines.push(
      `10.0.${i % 7}.${i % 13} - - [10/Oct/2026:13:55:36 +0000] "GET ${paths[(i * 5) % paths.length]} HTTP/1.1" ${status} ${bytes} "-" "curl/8"`,
    );
  }
  return lines;
}

/** What the pipeline should find, computed here the plain way. */
function expected(lines: readonly string[]): Summary {
  const byStatus = new Map<number, number>();
  const paths = new Map<string, number>();
  const clients = new Map<string, number>();
  let requests = 0;
  let malformed = 0;
  let bytes = 0;
  for (const line of lines) {
    const fields = line.split(' ');
    if (fields[0] === 'garbage') {
      malformed++;
      continue;
    }
    requests++;
    const status = Number(fields[8]);
    bytes += fields[9] === '-' ? 0 : Number(fields[9]);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    const p = fields[6]!.split('?')[0]!;
    paths.set(p, (paths.get(p) ?? 0) + 1);
    clients.set(fields[0]!, (clients.get(fields[0]!) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) =>
    [...m].sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0)).slice(0, 5);
  return {
    requests,
    malformed,
    bytes,
    byStatus: Object.fromEntries(
      [...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]),
    ),
    topPaths: top(paths),
    topClients: top(clients),
  };
}

describe('example: log processing', () => {
  it('summarises a log fed from a shell pipe through parallel parsers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-log-example-'));
    const mark = randomUUID();
    try {
      const lines = makeLog(20_000);
      const log = path.join(dir, 'access.log');
      writeFileSync(log, `${lines.join('\n')}\n`);
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number;
      }>((resolve) =>
        execFile(
          '/bin/sh',
          ['-c', `cat '${log}' | ${NODE} --json --replicas 3`],
          { env: { ...process.env, RXIPC_EXAMPLE_MARK: mark }, timeout: 60_000 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error === null ? 0 : Number(error.code) }),
        ),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(expected(lines));
      expect(processesWithEnv('RXIPC_EXAMPLE_MARK', mark)).toEqual([]);
    } finally {
      for (const pid of processesWithEnv('RXIPC_EXAMPLE_MARK', mark)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
