/**
 * `node --import tsx --conditions=@rxipc/source main.ts [--json] [PATH ...]`
 *
 * The privileged side: a broker that opens files for the workers, by policy (regular files
 * under the allowed directory, read-only), and passes the descriptors over a Unix socket that
 * only the workers' user may use; and a pipeline whose workers count lines and words. With
 * no PATH, it makes a few private files (mode 0600) and asks for them, and for some it must
 * refuse.
 */
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { type Connection, listen, withFds } from '@rxipc/adapters';
import { pipeline, stage } from '@rxipc/core';
import { lastValueFrom, toArray } from 'rxjs';

import type * as Count from './stages/count.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean', default: false } },
});

const workDir = mkdtempSync(path.join(tmpdir(), 'rxipc-privsep-'));
const allowed = path.join(workDir, 'allowed');
mkdirSync(allowed, { mode: 0o700 });
writeFileSync(path.join(allowed, 'notes.txt'), 'the quick brown fox\njumps over\nthe lazy dog\n', {
  mode: 0o600,
});
writeFileSync(path.join(allowed, 'todo.txt'), 'pay the rent\n', { mode: 0o600 });
writeFileSync(path.join(workDir, 'secret.txt'), 'not for workers\n', { mode: 0o600 });
const paths =
  positionals.length > 0
    ? positionals
    : [
        path.join(allowed, 'notes.txt'),
        path.join(allowed, 'todo.txt'),
        path.join(workDir, 'secret.txt'), // outside the allowed directory
        `${allowed}/../secret.txt`, // the same, through '..'
        path.join(allowed, 'missing.txt'),
      ];

// The workers' user: nobody when this runs as root (they drop to it), else this user.
const workerUid = process.getuid?.() === 0 ? 65534 : (process.getuid?.() ?? 0);
const socket = path.join(workDir, 'broker.sock');
const encoder = new TextEncoder();
const connections: Connection[] = [];
const broker = listen(`unix:${socket}?mode=0666&allowUid=${workerUid}`).subscribe((connection) => {
  connections.push(connection);
  connection.subscribe((request) => {
    const { open: wanted } = JSON.parse(new TextDecoder().decode(request)) as { open: string };
    const decision = decide(wanted);
    if (!decision.ok) {
      void connection.send(encoder.encode(JSON.stringify(decision)));
      return;
    }
    const fd = openSync(decision.file, 'r');
    // The worker gets its own duplicate of the descriptor; this one is closed once sent.
    void connection
      .send(withFds(encoder.encode(JSON.stringify({ ok: true })), [fd]))
      .finally(() => closeSync(fd));
  });
});
// Let the workers (nobody) reach the socket: the directory is searchable, nothing more.
chmodSync(workDir, 0o711);

/** The policy: regular files under the allowed directory, resolved (no '..', no symlinks out). */
function decide(wanted: string): { ok: true; file: string } | { ok: false; reason: string } {
  let file: string;
  try {
    file = realpathSync(wanted);
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  if (!file.startsWith(`${realpathSync(allowed)}${path.sep}`)) {
    return { ok: false, reason: 'outside the allowed directory' };
  }
  if (!statSync(file).isFile()) return { ok: false, reason: 'not a regular file' };
  return { ok: true, file };
}

try {
  const count = stage<typeof Count>(new URL('./stages/count.ts', import.meta.url), {
    replicas: 2,
    config: { socket },
  });
  const results = await lastValueFrom(pipeline(paths, count).pipe(toArray()));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } else {
    for (const r of results) {
      const what = r.granted ? `${r.lines} lines, ${r.words} words` : `refused: ${r.reason}`;
      process.stdout.write(`${r.path}: ${what} (worker uid ${r.uid}, direct open: ${r.direct})\n`);
    }
  }
} finally {
  broker.unsubscribe();
  await Promise.all(connections.map((c) => c.close()));
  rmSync(workDir, { recursive: true, force: true });
}
