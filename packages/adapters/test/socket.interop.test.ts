/**
 * Unix sockets and TCP against peers rxipc did not write: socat as client and as server for
 * stream, datagram and seqpacket sockets and for TCP, and Python's standard socket module.
 */
import { existsSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import { type Connection, listen, open, takeFds, utf8Codec } from '../src/index.js';
import {
  finished,
  killChildren,
  removeTempDirs,
  spawnTracked,
  tempDir,
  until,
} from './socket-support.js';

afterEach(killChildren);
afterAll(removeTempDirs);

const dir = tempDir('socket-interop');
let n = 0;
const fresh = (): string => path.join(dir, `s-${++n}.sock`);
const sh = (line: string) => spawnTracked('/bin/sh', ['-c', line]);
const text = (message: Uint8Array): string => Buffer.from(message).toString();
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

/** A TCP port that was free a moment ago (the kernel chose it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until a Unix socket at `where` accepts connections (each probe is closed at once). */
async function untilAccepting(where: string, type: 'stream' | 'seqpacket'): Promise<void> {
  await until(() => {
    const probe = native.socket(type);
    try {
      return native.socketConnect(probe, where);
    } catch {
      return false; // not there yet (ENOENT), or bound but not listening yet (ECONNREFUSED)
    } finally {
      native.fdClose(probe);
    }
  }, `a listener at ${where}`);
}

/** Waits until something accepts TCP connections on the loopback at `port`. */
async function untilListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const connected = await new Promise<boolean>((resolve) => {
      const probe = connect(port, '127.0.0.1');
      probe.on('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** Collects a child's stdout as it comes. */
function output(child: ReturnType<typeof sh>): { text: string } {
  const collected = { text: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (collected.text += chunk));
  return collected;
}

describe('socat as a peer', () => {
  it('talks to a stream listener as a client, both ways (unix, line framing)', async () => {
    const where = fresh();
    const server = firstValueFrom(listen<string>(`unix:${where}?framing=line&codec=utf8`));
    const socat = finished(sh(`printf 'alpha\\nbeta\\n' | socat - UNIX-CONNECT:'${where}'`));
    const connection = await server;
    try {
      expect(await lastValueFrom(connection.pipe(take(2), toArray()))).toEqual(['alpha', 'beta']);
      await connection.send('pong');
      connection.complete();
      expect((await socat).stdout).toBe('pong\n');
    } finally {
      await connection.close();
    }
  });

  it('serves a stream client (unix), through a filter it runs', async () => {
    const where = fresh();
    sh(`socat UNIX-LISTEN:'${where}',fork SYSTEM:'tr a-z A-Z'`);
    await untilAccepting(where, 'stream');
    const client = open<string>(`unix:${where}?framing=line&codec=utf8`);
    try {
      const replies = lastValueFrom(client.pipe(toArray()));
      await client.send('hello');
      await client.send('world');
      client.complete();
      expect(await replies).toEqual(['HELLO', 'WORLD']);
    } finally {
      await client.close();
    }
  });

  it('sends datagrams to a datagram listener, which sees socat as the sender', async () => {
    const where = fresh();
    const connections: Connection<string>[] = [];
    const subscription = listen<string>(`unix-dgram:${where}?codec=utf8`).subscribe((c) =>
      connections.push(c),
    );
    try {
      const socat = sh(`echo datagram | socat -u - UNIX-SENDTO:'${where}'`);
      const pid = socat.pid;
      await finished(socat);
      await until(() => connections.length === 1, 'the datagram');
      expect(await firstValueFrom(connections[0]!)).toBe('datagram\n');
      // sh runs socat as its child: the sender is not the shell but one of its children.
      expect(connections[0]!.peer.pid).not.toBe(pid);
      expect(connections[0]!.peer).toMatchObject({ uid: process.getuid!(), address: '' });
    } finally {
      subscription.unsubscribe();
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it('receives the datagrams a client sends (UNIX-RECV), one per message', async () => {
    const where = fresh();
    const socat = sh(`socat -u UNIX-RECV:'${where}' -`);
    const seen = output(socat);
    await until(() => existsSync(where), 'socat to bind');
    const client = open(`unix-dgram:${where}`);
    try {
      for (const word of ['one', 'two', 'three']) await client.send(bytes(`${word}\n`));
      await until(() => seen.text === 'one\ntwo\nthree\n', 'three datagrams at socat');
    } finally {
      await client.close();
    }
  });

  it('answers a datagram client from its own address (UNIX-RECVFROM echo)', async () => {
    const where = fresh();
    sh(`socat UNIX-RECVFROM:'${where}',fork SYSTEM:cat`);
    await until(() => existsSync(where), 'socat to bind');
    const client = open<string>(`unix-dgram:${where}?codec=utf8`);
    try {
      const echoes = lastValueFrom(client.pipe(take(2), toArray()));
      await client.send('ping');
      await client.send('pong');
      expect((await echoes).sort()).toEqual(['ping', 'pong']);
    } finally {
      await client.close();
    }
  });

  it('relays seqpacket messages between an rxipc client and an rxipc listener, boundaries kept', async () => {
    const inner = fresh();
    const outer = fresh();
    const server = firstValueFrom(listen(`unix-seqpacket:${inner}`));
    // -b: socat relays at most its buffer size per message (8192 by default).
    sh(`socat -b 65536 UNIX-LISTEN:'${outer}',type=5 UNIX-CONNECT:'${inner}',type=5`);
    const sizes = [1, 1000, 60_000, 3];
    const message = (size: number) => new Uint8Array(size).fill(size & 0xff);
    // socat serves one connection, so no probe: the client itself tries until socat listens.
    let client = open(`unix-seqpacket:${outer}`);
    await until(() => existsSync(outer), 'socat to bind');
    while (
      !(await client.send(message(sizes[0]!)).then(
        () => true,
        () => false,
      ))
    ) {
      await client.close();
      client = open(`unix-seqpacket:${outer}`);
    }
    try {
      for (const size of sizes.slice(1)) await client.send(message(size));
      const connection = await server;
      const received = await lastValueFrom(connection.pipe(take(sizes.length), toArray()));
      expect(received.map((m) => m.byteLength)).toEqual(sizes);
      await connection.close();
    } finally {
      await client.close();
    }
  });

  it('writes seqpacket messages it reads from stdin to a seqpacket listener', async () => {
    const where = fresh();
    const server = firstValueFrom(listen(`unix-seqpacket:${where}`));
    const socat = finished(sh(`printf 'one packet' | socat -u - UNIX-CONNECT:'${where}',type=5`));
    const connection = await server;
    try {
      expect(await lastValueFrom(connection.pipe(toArray()))).toEqual([bytes('one packet')]);
      expect((await socat).code).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('prints what a seqpacket client sends when listening (UNIX-LISTEN, type=5)', async () => {
    const where = fresh();
    const socat = sh(`socat -u UNIX-LISTEN:'${where}',type=5,fork -`);
    const seen = output(socat);
    await untilAccepting(where, 'seqpacket');
    const client = open(`unix-seqpacket:${where}`);
    try {
      await client.send(bytes('first|'));
      await client.send(bytes('second'));
      client.complete();
      await until(() => seen.text === 'first|second', 'both packets at socat');
    } finally {
      await client.close();
    }
  });

  it('talks TCP both ways: socat as client, then as server', async () => {
    let uri = '';
    const server = firstValueFrom(
      listen<string>('tcp://127.0.0.1:0?framing=line&codec=utf8', {
        onListening: (u) => (uri = u),
      }),
    );
    await until(() => uri !== '', 'the TCP listener');
    const port = uri.slice(uri.lastIndexOf(':') + 1);
    const socatClient = finished(sh(`printf 'over tcp\\n' | socat - TCP:127.0.0.1:${port}`));
    const connection = await server;
    try {
      expect(await firstValueFrom(connection)).toBe('over tcp');
      await connection.send('ack');
      connection.complete();
      expect((await socatClient).stdout).toBe('ack\n');
    } finally {
      await connection.close();
    }

    const free = await freePort();
    sh(`socat TCP-LISTEN:${free},bind=127.0.0.1,reuseaddr,fork SYSTEM:'tr a-z A-Z'`);
    await untilListening(free);
    const client = open<string>(`tcp://127.0.0.1:${free}?framing=line`, { codec: utf8Codec });
    try {
      const replies = lastValueFrom(client.pipe(toArray()));
      await client.send('shout');
      client.complete();
      expect(await replies).toEqual(['SHOUT']);
    } finally {
      await client.close();
    }
  });
});

describe("Python's socket module as a peer", () => {
  it('serves a length-prefixed echo that an rxipc client talks to (unix stream)', async () => {
    const where = fresh();
    sh(`python3 -c '
import os, socket, struct
# Listening before the name appears: a client that sees the file can connect at once.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("${where}.tmp"); s.listen(1)
os.rename("${where}.tmp", "${where}")
c, _ = s.accept()
f = c.makefile("rb")
while True:
    head = f.read(4)
    if len(head) < 4: break
    (n,) = struct.unpack(">I", head)
    c.sendall(head + f.read(n)[::-1])
c.close()
'`);
    await until(() => existsSync(where), 'python to listen');
    const client = open<string>(`unix:${where}?codec=utf8`);
    try {
      const replies = lastValueFrom(client.pipe(toArray()));
      for (const word of ['abc', '', 'x'.repeat(70_000) + 'y']) await client.send(word);
      client.complete();
      expect(await replies).toEqual(['cba', '', 'y' + 'x'.repeat(70_000)]);
    } finally {
      await client.close();
    }
  });

  it('sends a datagram from a bound socket and gets the reply (unix dgram)', async () => {
    const where = fresh();
    const subscription = listen<string>(`unix-dgram:${where}?codec=utf8`).subscribe((peer) =>
      peer.subscribe((message) => void peer.send(`hello ${message}`)),
    );
    try {
      const python = finished(
        sh(`python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0rxipc-py-${process.pid}-${++n}")
s.settimeout(10)
s.sendto(b"python", "${where}")
print(s.recv(100).decode())
'`),
      );
      expect((await python).stdout).toBe('hello python\n');
    } finally {
      subscription.unsubscribe();
    }
  });

  it('passes a descriptor with socket.send_fds to a seqpacket listener', async () => {
    const where = fresh();
    const server = firstValueFrom(listen(`unix-seqpacket:${where}?maxFds=2`));
    const python = finished(
      sh(`python3 -c '
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("${where}")
r, w = os.pipe()
os.write(w, b"through a pipe from python")
os.close(w)
socket.send_fds(s, [b"have a pipe"], [r])
'`),
    );
    const connection = await server;
    try {
      const message = await firstValueFrom(connection);
      expect(text(message)).toBe('have a pipe');
      const [pipe] = takeFds(message);
      const buffer = new Uint8Array(100);
      const length = native.fdRead(pipe!, buffer)!;
      native.fdClose(pipe!);
      expect(text(buffer.subarray(0, length))).toBe('through a pipe from python');
      expect((await python).code).toBe(0);
    } finally {
      await connection.close();
    }
  });
});
