import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import {
  concatMap,
  defer,
  lastValueFrom,
  map,
  type Observable,
  of,
  range,
  type Subscription,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { connect, pipeline, serve, stage } from '../src/index.js';
import type * as Work from './fixtures/stages/work.js';
import { fixtureStage, isRunning, ProcessLog, waitFor } from './support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-serve-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let log = new ProcessLog();
let server: ChildProcess | undefined;
afterEach(async () => {
  await log.cleanUp();
  log = new ProcessLog();
  if (server?.pid !== undefined && isRunning(server.pid)) {
    server.kill('SIGKILL');
    await waitFor(() => !isRunning(server!.pid!), 5000, 'the server to exit');
  }
  server = undefined;
});

/** Starts `fixtures/double-server.ts` on `uri`; resolves once it listens. */
async function startServer(uri: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@rxipc/source',
      fileURLToPath(new URL('./fixtures/double-server.ts', import.meta.url)),
      uri,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  server = child;
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code, signal) => reject(new Error(`the server ended: ${signal ?? code}`)));
  });
  return child;
}

// Processes start slowly on a loaded machine (tsx compiles each one's sources).
describe('serve and connect', { timeout: 60_000 }, () => {
  it('joins two unrelated processes over a Unix socket, with completion both ways', async () => {
    const socket = path.join(dir, 'double.sock');
    const child = await startServer(`unix:${socket}`);
    const replies = await lastValueFrom(
      of(1, 2, 3).pipe(
        connect<number, { n: number; server: number; client: number }>(`unix:${socket}`),
        toArray(),
      ),
    );
    expect(replies).toEqual(
      [1, 2, 3].map((n) => ({ n: 2 * n, server: child.pid, client: process.pid })),
    );
    child.kill('SIGTERM');
    await waitFor(() => !existsSync(socket), 5000, 'the socket file to go');
  });

  it('puts a served stage into a pipeline, after a stage of child processes', async () => {
    const socket = path.join(dir, 'pipeline.sock');
    await startServer(`unix:${socket}`);
    const work = stage<typeof Work>(fixtureStage('work'), {
      replicas: 2,
      transport: 'unix',
      output: 'capture',
    });
    const p = log.watch(
      pipeline(
        Array.from({ length: 500 }, (_, i) => i),
        work,
        map((w) => w.n),
        connect<number, { n: number }>(`unix:${socket}`),
      ),
    );
    const out = await lastValueFrom(p.pipe(toArray()));
    expect(out.map((r) => r.n)).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i));
    expect(log.events.filter((e) => e.type === 'spawn')).toHaveLength(2);
  });

  it('closes only the connection whose handler fails, and reports it', async () => {
    const uri = `unix:${path.join(dir, 'picky.sock')}`;
    const errors: string[] = [];
    const serving = serve(
      uri,
      (words: Observable<string>) =>
        words.pipe(
          map((word) => {
            if (word === 'boom') throw new Error('the handler cannot take boom');
            return word.toUpperCase();
          }),
        ),
      { codec: 'json', onError: (error) => errors.push((error as Error).message) },
    ).subscribe();
    try {
      const ask = (words: string[]) =>
        lastValueFrom(
          defer(() => of(...words)).pipe(
            connect<string, string>(uri, { codec: 'json' }),
            toArray(),
          ),
        );
      await expect(ask(['boom'])).resolves.toEqual([]);
      expect(errors).toEqual(['the handler cannot take boom']);
      await expect(ask(['still', 'here'])).resolves.toEqual(['STILL', 'HERE']);
    } finally {
      serving.unsubscribe();
    }
  });

  it('over TCP, answers everything even after the client has ended its side', async () => {
    let uri = '';
    let serving: Subscription | undefined;
    const listening = new Promise<void>((resolve) => {
      serving = serve(
        'tcp://127.0.0.1:0',
        // Slow answers: most are sent after the client's FIN has arrived.
        (numbers: Observable<number>) =>
          numbers.pipe(concatMap((n) => timer(1).pipe(map(() => -n)))),
        { onListening: (concrete) => ((uri = concrete), resolve()) },
      ).subscribe();
    });
    try {
      await listening;
      const replies = await lastValueFrom(
        range(0, 300).pipe(connect<number, number>(uri), toArray()),
      );
      expect(replies).toEqual(Array.from({ length: 300 }, (_, n) => -n));
    } finally {
      serving?.unsubscribe();
    }
  });

  it('fails to connect with the system error when nobody serves', async () => {
    const missing = `unix:${path.join(dir, 'nobody.sock')}`;
    await expect(lastValueFrom(of(1).pipe(connect(missing)))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(
      lastValueFrom(throwError(() => new Error('no input')).pipe(connect(missing))),
    ).rejects.toThrow();
  });
});
