import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';

import { open, pipeLink, utf8Codec } from '../src/index.js';
import { nodeArgsFor } from '../src/testkit/index.js';

// Inside the package, so the scripts resolve rxjs through its node_modules.
const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const work = mkdtempSync(path.join(cache, 'pipe-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a TypeScript snippet in a child node that imports the adapters from source. */
function script(name: string, body: string): string[] {
  const file = path.join(work, `${name}.mts`);
  const adapters = new URL('../src/index.ts', import.meta.url).pathname;
  writeFileSync(
    file,
    `import * as rx from ${JSON.stringify(adapters)};\nimport * as rxjs from 'rxjs';\n${body}\n`,
  );
  return nodeArgsFor(new URL(`file://${file}`));
}

describe('pipes', () => {
  it('reads lines from a shell pipeline on fd:0 (seq 1 100000 | node app)', () => {
    const app = script(
      'count-lines',
      `const lines = await rxjs.lastValueFrom(rx.open('fd:0?framing=line&codec=utf8').pipe(rxjs.toArray()));
       const sum = lines.reduce((a, l) => a + Number(l), 0);
       console.log(JSON.stringify({ count: lines.length, sum, last: lines.at(-1) }));`,
    );
    const quoted = [process.execPath, ...app].map((a) => `'${a}'`).join(' ');
    const out = execFileSync('/bin/sh', ['-c', `seq 1 100000 | ${quoted}`], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ count: 100000, sum: 5000050000, last: '100000' });
  });

  it('writes lines to fd:1 that a shell tool reads', () => {
    const app = script(
      'write-lines',
      `const out = rx.open('fd:1?framing=line&codec=utf8');
       await rx.writeAll(out, Array.from({ length: 5000 }, (_, i) => 'line ' + i), { end: true });
       await out.close();`,
    );
    const quoted = [process.execPath, ...app].map((a) => `'${a}'`).join(' ');
    const out = execFileSync('/bin/sh', ['-c', `${quoted} | wc -l`], { encoding: 'utf8' });
    expect(out.trim()).toBe('5000');
  });

  it('talks both ways with a child process through pipeLink and parentChannel', async () => {
    const child = script(
      'echo-child',
      `const parent = rx.parentChannel({ codec: rx.utf8Codec });
       parent.subscribe({ next: (m) => parent.next(m.toUpperCase()), complete: () => parent.complete() });`,
    );
    const link = pipeLink<string>({ codec: utf8Codec });
    const proc = link.spawn(process.execPath, child);
    try {
      const replies = lastValueFrom(link.channel.pipe(take(3), toArray()));
      for (const word of ['a', 'bc', 'déf']) await link.channel.send(word);
      expect(await replies).toEqual(['A', 'BC', 'DÉF']);
    } finally {
      proc.kill('SIGKILL');
      await link.channel.close();
    }
  });

  it('gives a plain shell child blocking pipe ends it can use with cat', async () => {
    const link = pipeLink<string>({ codec: utf8Codec, framing: 'line' });
    const proc = link.spawn('/bin/sh', ['-c', 'cat <&3 >&4'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    try {
      const echoed = lastValueFrom(link.channel.pipe(toArray()));
      await link.channel.send('one');
      await link.channel.send('two');
      link.channel.complete();
      expect(await echoed).toEqual(['one', 'two']);
    } finally {
      proc.kill('SIGKILL');
      await link.channel.close();
    }
  });

  it('errors with EPIPE when the reading child is gone', async () => {
    const link = pipeLink();
    const proc = link.spawn('/bin/sh', ['-c', 'exit 0']);
    await new Promise((resolve) => proc.on('exit', resolve));
    await link.channel.send(new Uint8Array(10)).then(
      () => expect.unreachable('the send should fail'),
      (error: unknown) =>
        expect(error).toMatchObject({ code: 'EPIPE', syscall: 'writev', errno: -32 }),
    );
    await link.channel.close();
  });

  it('reports a missing descriptor as EBADF with the system-error shape', async () => {
    await expect(firstValueFrom(open('fd:987654'))).rejects.toMatchObject({
      code: 'EBADF',
      errno: -9,
    });
  });

  it('completes when the writing child closes its end mid-stream, keeping what arrived', async () => {
    const link = pipeLink<string>({ codec: utf8Codec, framing: 'line' });
    const proc = link.spawn('/bin/sh', ['-c', 'printf "a\\nb\\npartial" >&4; kill -9 $$'], {
      stdio: 'ignore',
    });
    try {
      await expect(lastValueFrom(link.channel.pipe(toArray()))).resolves.toEqual([
        'a',
        'b',
        'partial',
      ]);
    } finally {
      proc.kill('SIGKILL');
      await link.channel.close();
    }
  });
});
