import { chmodSync, closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { type Connection, listen, takeFds, unixSocket, withFds } from '../src/index.js';
import {
  compileC,
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

const dir = tempDir('fd-passing');
let n = 0;
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);
const text = (message: Uint8Array): string => Buffer.from(message).toString();
const SCHEMES: Record<'stream' | 'seqpacket', string> = {
  stream: 'unix',
  seqpacket: 'unix-seqpacket',
};

/** Reads what is left in the file behind a received descriptor, then closes the descriptor. */
function readThrough(handle: ReturnType<typeof takeFds>[number]): string {
  const buffer = Buffer.alloc(4096);
  const length = readSync(native.fdNumber(handle), buffer, 0, buffer.length, 0);
  native.fdClose(handle);
  return buffer.subarray(0, length).toString();
}

/** A file holding `content`, in the test's private directory. */
function fileWith(content: string): string {
  const file = path.join(dir, `file-${++n}.txt`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** Runs a TypeScript module in a child node that imports the adapters from source. */
function nodeScript(name: string, body: string): string[] {
  mkdirSync(SCRIPT_DIR, { recursive: true });
  const file = path.join(SCRIPT_DIR, `${name}-${process.pid}.mts`);
  const adapters = new URL('../src/index.ts', import.meta.url).pathname;
  writeFileSync(
    file,
    `import * as rx from ${JSON.stringify(adapters)};\nimport { native } from '@rxipc/native';\nimport * as fs from 'node:fs';\nimport * as rxjs from 'rxjs';\n${body}\n`,
    { mode: 0o644 },
  );
  return ['--import', 'tsx', '--conditions=@rxipc/source', file];
}

describe('descriptor passing (SCM_RIGHTS)', () => {
  for (const type of ['stream', 'seqpacket'] as const) {
    it(`sends a descriptor that a C program reads through (${type})`, async () => {
      const socket = path.join(dir, `to-c-${++n}.sock`);
      const file = fileWith('contents for C');
      // Raw framing on the stream: the C peer reads the bytes as they are.
      const query = type === 'stream' ? '?framing=raw' : '';
      const server = firstValueFrom(listen(`${SCHEMES[type]}:${socket}${query}`));
      const peer = finished(spawnTracked(compileC('fd-peer'), ['receive', type, socket]));
      const connection = await server;
      try {
        const fd = openSync(file, 'r');
        await connection.send(withFds(bytes('here it is'), [fd]));
        closeSync(fd); // the peer has its own duplicate now
        const result = await peer;
        expect(result.stderr).toBe('');
        expect(result.stdout).toBe('text=here it is\nfile=contents for C\n');
      } finally {
        await connection.close();
      }
    });

    it(`receives a descriptor from a C program, with the message it came with (${type})`, async () => {
      const socket = path.join(dir, `from-c-${++n}.sock`);
      const file = fileWith('contents from C');
      const server = firstValueFrom(listen(`${SCHEMES[type]}:${socket}?maxFds=4`));
      const peer = finished(
        spawnTracked(compileC('fd-peer'), ['send', type, socket, file, 'take this']),
      );
      const connection = await server;
      try {
        const message = await firstValueFrom(connection);
        expect(text(message)).toBe('take this');
        const fds = takeFds(message);
        expect(fds).toHaveLength(1);
        expect(readThrough(fds[0]!)).toBe('contents from C');
        expect(takeFds(message)).toEqual([]); // taken once
        expect((await peer).code).toBe(0);
      } finally {
        await connection.close();
      }
    });
  }

  it('keeps each descriptor with its own frame on a stream, among small and large frames', async () => {
    const [a, b] = native.socketpair('stream');
    const sender = unixSocket({ handle: a, maxFrameSize: 1 << 20 });
    const receiver = unixSocket({ handle: b, maxFds: 8, maxFrameSize: 1 << 20 });
    const total = 60;
    try {
      const all = lastValueFrom(receiver.pipe(take(total), toArray()));
      const sends: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        // Large frames force partial writes; a descriptor rides on every seventh frame.
        const message = new Uint8Array(i % 5 === 0 ? 300_000 : 10 + i).fill(i);
        if (i % 7 === 3) {
          const [read, write] = native.pipe();
          native.fdWritev(write, [bytes(`frame ${i}`)]);
          native.fdClose(write);
          sends.push(sender.send(withFds(message, [read])).finally(() => native.fdClose(read)));
        } else {
          sends.push(sender.send(message));
        }
      }
      await Promise.all(sends);
      const received = await all;
      for (const [i, message] of received.entries()) {
        expect(message[0]).toBe(i & 0xff);
        const fds = takeFds(message);
        if (i % 7 === 3) {
          expect(fds).toHaveLength(1);
          const buffer = new Uint8Array(64);
          const length = native.fdRead(fds[0]!, buffer)!;
          native.fdClose(fds[0]!);
          expect(text(buffer.subarray(0, length))).toBe(`frame ${i}`);
        } else {
          expect(fds).toEqual([]);
        }
      }
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  it('drops descriptors on a channel that accepts none (maxFds 0): the kernel closes them', async () => {
    const [a, b] = native.socketpair('seqpacket');
    const receiver = unixSocket({ type: 'seqpacket', handle: b });
    try {
      const received = firstValueFrom(receiver);
      native.socketSendmsg(a, [bytes('with a descriptor')], { fds: [0] });
      const message = await received;
      expect(text(message)).toBe('with a descriptor');
      expect(takeFds(message)).toEqual([]);
    } finally {
      native.fdClose(a);
      await receiver.close();
    }
  });

  it('closes received descriptors that nobody takes once their message is collected', async () => {
    const child = spawnTracked(process.execPath, [
      '--expose-gc',
      ...nodeScript(
        'fd-gc',
        `const count = () => fs.readdirSync('/proc/self/fd').length;
         const [a, b] = native.socketpair('seqpacket');
         const receiver = rx.unixSocket({ type: 'seqpacket', handle: b, maxFds: 8 });
         const before = count();
         for (let i = 0; i < 20; i++) native.socketSendmsg(a, [new Uint8Array([i])], { fds: [0, 1, 2] });
         let arrived = 0;
         await new Promise((resolve) => receiver.subscribe(() => { if (++arrived === 20) resolve(); }));
         const loaded = count();
         for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
         console.log(JSON.stringify({ before, loaded, after: count() }));
         native.fdClose(a); await receiver.close();`,
      ),
    ]);
    const result = await finished(child);
    expect(result.stderr).toBe('');
    const { before, loaded, after } = JSON.parse(result.stdout) as Record<string, number>;
    expect(loaded).toBeGreaterThanOrEqual(before + 60);
    expect(after).toBeLessThanOrEqual(before);
  });

  it('privilege separation: a broker opens a file its unprivileged client can read only through the passed descriptor', async () => {
    const secret = fileWith('the secret, readable by the broker only');
    const name = `rxipc-broker-${process.pid}-${++n}`;
    // The client runs as nobody when the tests run as root; either way the file is closed to it
    // by mode 000 once the broker holds it open.
    const asRoot = process.getuid!() === 0;
    const clientUid = asRoot ? 65534 : process.getuid!();
    const connections: Connection[] = [];
    // Raw messages (no codec): descriptors ride on the Uint8Array that is sent.
    const broker = listen(`unix:@${name}?framing=line&allowUid=${clientUid}`)
      .pipe(take(1))
      .subscribe((connection) => {
        connections.push(connection);
        connection.subscribe(async (request) => {
          // Policy lives here: this broker hands out one file, read-only, to this uid.
          const fd = openSync(text(request) === 'open secret' ? secret : '/dev/null', 'r');
          chmodSync(secret, 0o000);
          await connection.send(withFds(bytes('granted'), [fd]));
          closeSync(fd);
        });
      });
    const client = spawnTracked(
      process.execPath,
      nodeScript(
        'fd-client',
        `const broker = rx.unixSocket({ name: ${JSON.stringify(name)}, framing: 'line', maxFds: 1 });
         const reply = rxjs.firstValueFrom(broker);
         await broker.send(new TextEncoder().encode('open secret'));
         const message = await reply;
         let direct;
         try { fs.readFileSync(${JSON.stringify(secret)}); direct = 'readable'; } catch (e) { direct = e.code; }
         const [file] = rx.takeFds(message);
         const through = fs.readFileSync(native.fdNumber(file), 'utf8');
         native.fdClose(file);
         console.log(JSON.stringify({ uid: process.getuid(), reply: new TextDecoder().decode(message), direct, through }));
         await broker.close();`,
      ),
      asRoot ? { uid: clientUid, gid: 65534 } : {},
    );
    try {
      const result = await finished(client);
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({
        uid: clientUid,
        reply: 'granted',
        direct: 'EACCES',
        through: 'the secret, readable by the broker only',
      });
      await until(() => connections.length === 1, 'the connection');
    } finally {
      broker.unsubscribe();
      await Promise.all(connections.map((c) => c.close()));
    }
  });
});
