import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { fifo, open, utf8Codec } from '../src/index.js';
import {
  finished,
  killChildren,
  removeTempDirs,
  SCRIPT_DIR,
  spawnTracked,
  tempDir,
  until,
} from './socket-support.js';

afterEach(killChildren);
afterAll(removeTempDirs);

const dir = tempDir('fifo-test');
let n = 0;
const fresh = (): string => path.join(dir, `f-${++n}`);
const sh = (line: string) => spawnTracked('/bin/sh', ['-c', line]);

describe('fifo', () => {
  it('makes the FIFO with mode 0600 on first use, and removes it on close', async () => {
    const where = fresh();
    const channel = open(`fifo:${where}`);
    expect(existsSync(where)).toBe(false); // nothing happens before first use
    const subscription = channel.subscribe();
    const stat = statSync(where);
    expect(stat.isFIFO()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    subscription.unsubscribe();
    await channel.close();
    expect(existsSync(where)).toBe(false);
  });

  it('gives a made FIFO exactly the mode asked for, whatever the umask', async () => {
    const where = fresh();
    const channel = open(`fifo:${where}?mode=0666`);
    try {
      channel.subscribe().unsubscribe();
      expect(statSync(where).mode & 0o777).toBe(0o666);
    } finally {
      await channel.close();
    }
  });

  it('leaves a FIFO it did not make in place when it closes', async () => {
    const where = fresh();
    execFileSync('mkfifo', [where]);
    const channel = open(`fifo:${where}?create=false`);
    channel.subscribe().unsubscribe();
    await channel.close();
    expect(statSync(where).isFIFO()).toBe(true);
  });

  it('errors with ENOENT when the FIFO is missing and create is false', async () => {
    const where = fresh();
    await expect(firstValueFrom(open(`fifo:${where}?create=false`))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
      path: where,
    });
  });

  it('refuses a path that is no FIFO with EINVAL, saying what it is', async () => {
    const where = fresh();
    writeFileSync(where, 'not a fifo');
    await expect(firstValueFrom(open(`fifo:${where}`))).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('not a FIFO but a regular file'),
    });
  });

  it('reads the lines echo writes, and completes when the last writer closes', async () => {
    const where = fresh();
    const lines = open<string>(`fifo:${where}?framing=line&codec=utf8`);
    const all = lastValueFrom(lines.pipe(toArray()));
    await until(() => existsSync(where), 'the FIFO');
    await finished(sh(`{ echo one; echo 'two words'; echo three; } > '${where}'`));
    expect(await all).toEqual(['one', 'two words', 'three']);
    await lines.close();
  });

  it('reads what cat writes byte for byte with raw framing', async () => {
    const where = fresh();
    const source = path.join(dir, 'source.bin');
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    writeFileSync(source, bytes);
    const chunks = open(`fifo:${where}?framing=raw`);
    const all = lastValueFrom(chunks.pipe(toArray()));
    await until(() => existsSync(where), 'the FIFO');
    await finished(sh(`cat '${source}' > '${where}'`));
    expect(Buffer.concat(await all).equals(bytes)).toBe(true);
    await chunks.close();
  });

  it('writes lines that cat reads', async () => {
    const where = fresh();
    const out = fifo<string>({ path: where, framing: 'line', codec: utf8Codec });
    const sent = Promise.all(['alpha', 'beta', 'gamma'].map((line) => out.send(line)));
    const cat = finished(sh(`cat '${where}'`));
    await sent;
    out.complete();
    expect((await cat).stdout).toBe('alpha\nbeta\ngamma\n');
    await out.close();
  });

  it('writes raw bytes that cat passes on unchanged', async () => {
    const where = fresh();
    const out = open(`fifo:${where}?framing=raw`);
    const payload = new Uint8Array(100_000).map((_, i) => (i * 13) & 0xff);
    const sent = out.send(payload);
    const cat = sh(`cat '${where}' | od -An -v -tu1 | tr -s ' \\n' '\\n' | grep -c .`);
    const counted = finished(cat);
    await sent;
    out.complete();
    expect((await counted).stdout.trim()).toBe('100000');
    await out.close();
  });

  it('waits for a reader before writing, without blocking the event loop', async () => {
    const where = fresh();
    const out = open<string>(`fifo:${where}?framing=line&codec=utf8`);
    let settled = false;
    const sent = out.send('hello').then(() => (settled = true));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 2);
    try {
      await until(() => ticks >= 10, 'the event loop to turn');
      expect(settled).toBe(false); // nobody reads yet: ENXIO, retried on a timer
      const cat = finished(sh(`cat '${where}'`));
      await sent;
      out.complete();
      expect((await cat).stdout).toBe('hello\n');
    } finally {
      clearInterval(ticker);
      await out.close();
    }
  });

  it('keeps listening across writers with reopen=true, and completes only on close', async () => {
    const where = fresh();
    const daemon = open<string>(`fifo:${where}?framing=line&codec=utf8&reopen=true`);
    const got: string[] = [];
    let completed = false;
    daemon.subscribe({ next: (line) => got.push(line), complete: () => (completed = true) });
    for (const word of ['first', 'second', 'third']) {
      await finished(sh(`echo ${word} > '${where}'`));
    }
    await until(() => got.length === 3, 'three lines');
    expect(got).toEqual(['first', 'second', 'third']);
    expect(completed).toBe(false);
    await daemon.close();
    expect(completed).toBe(true);
    expect(existsSync(where)).toBe(false);
  });

  it('completes when a writer dies mid-stream, keeping the unterminated last line', async () => {
    const where = fresh();
    const lines = open<string>(`fifo:${where}?framing=line&codec=utf8`);
    const all = lastValueFrom(lines.pipe(toArray()));
    await until(() => existsSync(where), 'the FIFO');
    const writer = await finished(sh(`exec 3>'${where}'; printf 'a\\nb\\npart' >&3; kill -9 $$`));
    expect(writer.signal).toBe('SIGKILL');
    expect(await all).toEqual(['a', 'b', 'part']);
    await lines.close();
  });

  it('reports a length-framed writer that dies mid-frame as a truncated frame', async () => {
    const where = fresh();
    const frames = open(`fifo:${where}`);
    const failure = lastValueFrom(frames.pipe(toArray())).then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => existsSync(where), 'the FIFO');
    // A frame announcing 16 bytes, of which 3 arrive.
    await finished(sh(`exec 3>'${where}'; printf '\\000\\000\\000\\020abc' >&3; kill -9 $$`));
    expect(await failure).toMatchObject({ code: 'ERR_RXIPC_TRUNCATED_FRAME' });
    await frames.close();
  });

  it('errors a send with EPIPE once the last reader is gone', async () => {
    const where = fresh();
    native.mkfifo(where, 0o600);
    const reader = native.fifoOpen(where, 'read');
    const out = open(`fifo:${where}?create=false`);
    await out.send(new Uint8Array(4));
    native.fdClose(reader);
    await expect(out.send(new Uint8Array(4))).rejects.toMatchObject({ code: 'EPIPE' });
    await out.close();
  });

  it('removes a FIFO it made when the process exits without closing the channel', async () => {
    const where = fresh();
    mkdirSync(SCRIPT_DIR, { recursive: true });
    const script = path.join(SCRIPT_DIR, `fifo-exit-${process.pid}.mts`);
    writeFileSync(
      script,
      `import { open } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
       open(${JSON.stringify(`fifo:${where}`)}).subscribe();
       setTimeout(() => process.exit(0), 20);`,
    );
    const child = await finished(
      spawnTracked(process.execPath, ['--import', 'tsx', '--conditions=@rxipc/source', script]),
    );
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    expect(existsSync(where)).toBe(false);
  });
});
