import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import {
  type Connection,
  listen,
  type ListenOptions,
  open,
  type Peer,
  unixSocket,
  utf8Codec,
} from '../src/index.js';
import { countOpenFds } from '../src/testkit/index.js';
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

const dir = tempDir('unix-test');
let n = 0;
const fresh = (): string => path.join(dir, `s-${++n}.sock`);
const text = (message: Uint8Array): string => Buffer.from(message).toString();
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Subscribes to `listen(uri)` and collects what it emits; `stop()` unsubscribes. */
function serve(uri: string, options: ListenOptions = {}) {
  const connections: Connection[] = [];
  const refused: Peer[] = [];
  const errors: unknown[] = [];
  const subscription = listen(uri, {
    onRefused: (peer) => refused.push(peer),
    ...options,
  }).subscribe({
    next: (connection) => connections.push(connection),
    error: (error: unknown) => errors.push(error),
  });
  return {
    connections,
    refused,
    errors,
    async stop(): Promise<void> {
      subscription.unsubscribe();
      await Promise.all(connections.map((c) => c.close()));
    },
  };
}

describe('unix sockets', () => {
  it('makes the socket file with mode 0600 and removes it when listening stops', async () => {
    const where = fresh();
    const server = serve(`unix:${where}`);
    const stat = statSync(where);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    await server.stop();
    expect(existsSync(where)).toBe(false);
  });

  it("tells each connection the peer's pid, uid and gid (SO_PEERCRED)", async () => {
    const where = fresh();
    const server = serve(`unix:${where}?framing=raw`);
    try {
      const socat = spawnTracked('socat', ['-u', 'EXEC:sleep 5', `UNIX-CONNECT:${where}`]);
      await until(() => server.connections.length === 1, 'a connection');
      expect(server.connections[0]!.peer).toEqual({
        pid: socat.pid,
        uid: process.getuid!(),
        gid: process.getgid!(),
      });
    } finally {
      await server.stop();
    }
  });

  it('refuses a peer whose uid is not allowed, closing it before reading anything', async () => {
    const where = fresh();
    const uid = process.getuid!();
    const server = serve(`unix:${where}?allowUid=${uid + 1},${uid + 2}`);
    const client = open(`unix:${where}`);
    try {
      const ended = lastValueFrom(client).then(
        () => 'completed',
        (error: { code?: string }) => error.code,
      );
      await client.send(bytes('let me in'));
      await until(() => server.refused.length === 1, 'the refusal');
      expect(server.refused[0]).toMatchObject({ pid: process.pid, uid });
      // Closed unread: the client sees its connection end (a reset, since data was unread).
      expect(['completed', 'ECONNRESET']).toContain(await ended);
      expect(server.connections).toHaveLength(0);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('accepts peers by uid from the URI, and by a predicate given in code', async () => {
    const where = fresh();
    const seen: Peer[] = [];
    const server = serve(`unix:${where}?allowUid=${process.getuid!()}`, {
      accept: (peer) => {
        seen.push(peer);
        return peer.pid === process.pid;
      },
    });
    const client = open(`unix:${where}`);
    try {
      await client.send(bytes('hello'));
      await until(() => server.connections.length === 1, 'a connection');
      expect(seen).toEqual([server.connections[0]!.peer]);
      expect(text(await firstValueFrom(server.connections[0]!))).toBe('hello');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('refuses every peer when allowGid lists no group of theirs', async () => {
    const where = fresh();
    const server = serve(`unix-seqpacket:${where}`, { allowGid: [process.getgid!() + 1] });
    const client = open(`unix-seqpacket:${where}`);
    try {
      client.subscribe().unsubscribe();
      await until(() => server.refused.length === 1, 'the refusal');
      expect(server.connections).toHaveLength(0);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('releases the descriptor of a connection closed without ever being used', async () => {
    const where = fresh();
    const server = serve(`unix:${where}`);
    const client = open(`unix:${where}`);
    try {
      const before = countOpenFds();
      client.subscribe().unsubscribe(); // connect
      await until(() => server.connections.length === 1, 'a connection');
      expect(countOpenFds()).toBe(before + 2); // the client's socket and the accepted one
      await server.connections[0]!.close();
      await client.close();
      expect(countOpenFds()).toBe(before);
    } finally {
      await server.stop();
    }
  });

  it('replaces a stale socket file that a dead process left', async () => {
    const where = fresh();
    const stale = native.socket('stream');
    native.socketBind(stale, where);
    native.fdClose(stale); // the file stays; nothing listens on it any more
    expect(statSync(where).isSocket()).toBe(true);
    const server = serve(`unix:${where}`);
    const client = open(`unix:${where}`);
    try {
      await client.send(bytes('after the stale one'));
      await until(() => server.connections.length === 1, 'a connection');
      expect(server.errors).toEqual([]);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('never takes over a live socket, and names the process that holds it', async () => {
    const where = fresh();
    const socat = spawnTracked('socat', [`UNIX-LISTEN:${where}`, 'EXEC:cat']);
    await until(() => existsSync(where), 'socat to listen');
    const error = await firstValueFrom(listen(`unix:${where}`)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', path: where });
    expect((error as Error).message).toContain(`held there by pid ${socat.pid} (socat)`);
    expect(statSync(where).isSocket()).toBe(true);
  });

  it('leaves a file that is not a socket where it is', async () => {
    const where = fresh();
    writeFileSync(where, 'precious');
    const error = await firstValueFrom(listen(`unix:${where}`)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EADDRINUSE' });
    expect((error as Error).message).toContain('a regular file is at this path');
    expect(readFileSync(where, 'utf8')).toBe('precious');
  });

  it('listens and connects on an abstract name, which leaves no file', async () => {
    const name = `rxipc-test-${process.pid}-${++n}`;
    const server = serve(`unix:@${name}?framing=line&codec=utf8`);
    const client = unixSocket<string>({ name, framing: 'line', codec: utf8Codec });
    try {
      await client.send('over the abstract namespace');
      await until(() => server.connections.length === 1, 'a connection');
      expect(await firstValueFrom(server.connections[0]!)).toBe('over the abstract namespace');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('errors with ENOENT when no socket is at the path', async () => {
    const where = fresh();
    await expect(firstValueFrom(open(`unix:${where}`))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'connect',
      path: where,
      message: expect.stringContaining('is the server running?'),
    });
  });

  it('says when a socket of another type is at the address (EPROTOTYPE)', async () => {
    const where = fresh();
    const server = serve(`unix-seqpacket:${where}`);
    try {
      await expect(firstValueFrom(open(`unix:${where}`))).rejects.toMatchObject({
        code: 'EPROTOTYPE',
        message: expect.stringContaining('of another type'),
      });
    } finally {
      await server.stop();
    }
  });

  it('connects later, without blocking, when the listen backlog is full', async () => {
    const where = fresh();
    const listener = native.socket('stream');
    native.socketBind(listener, where);
    native.socketListen(listener, 0); // one pending connection fills it
    const first = open(`unix:${where}`);
    const second = open(`unix:${where}`);
    try {
      await first.send(bytes('1'));
      let sent = false;
      const pending = second.send(bytes('2')).then(() => (sent = true));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(sent).toBe(false);
      const accepted = [native.socketAccept(listener)];
      await pending;
      accepted.push(native.socketAccept(listener));
      expect(accepted.every((handle) => handle !== null)).toBe(true);
      for (const handle of accepted) native.fdClose(handle!);
    } finally {
      await Promise.all([first.close(), second.close()]);
      native.fdClose(listener);
    }
  });

  it('refuses to send an empty seqpacket message, which would read as end of stream', async () => {
    const [a, b] = native.socketpair('seqpacket');
    const channel = unixSocket({ type: 'seqpacket', handle: a });
    try {
      await expect(channel.send(new Uint8Array(0))).rejects.toMatchObject({
        code: 'ERR_RXIPC_FRAMING',
      });
    } finally {
      await channel.close();
      native.fdClose(b);
    }
  });

  it('refuses a datagram larger than the socket allows, naming the limit', async () => {
    const where = fresh();
    const server = serve(`unix-dgram:${where}`);
    // maxMessageSize above what SO_SNDBUF allows: the kernel refuses, and the error says why.
    const client = open(`unix-dgram:${where}?maxMessageSize=400000`);
    const small = open(`unix-dgram:${where}`);
    try {
      const error = await client.send(new Uint8Array(300_000)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EMSGSIZE', syscall: 'sendmmsg' });
      expect((error as Error).message).toMatch(
        /a message of 300000 bytes .* at most \d+ bytes \(SO_SNDBUF \d+/,
      );
      const refused = await small.send(new Uint8Array(300_000)).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'ERR_RXIPC_FRAME_TOO_LARGE' });
      expect((refused as Error).message).toMatch(/300000 bytes exceeds maxMessageSize \d+ bytes/);
    } finally {
      await Promise.all([client.close(), small.close()]);
      await server.stop();
    }
  });

  it('errors, rather than truncates, a datagram larger than the receiver takes', async () => {
    const [a, b] = native.socketpair('dgram');
    const sender = unixSocket({ type: 'dgram', handle: a });
    const receiver = unixSocket({ type: 'dgram', handle: b, maxMessageSize: 100 });
    try {
      const received = firstValueFrom(receiver).catch((e: unknown) => e);
      await sender.send(new Uint8Array(200));
      expect(await received).toMatchObject({
        code: 'ERR_RXIPC_FRAME_TOO_LARGE',
        message: expect.stringContaining('a message of 200 bytes arrived'),
      });
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  it('gives a datagram listener one connection per sender, with credentials, and replies reach each', async () => {
    const where = fresh();
    const server = serve(`unix-dgram:${where}?codec=utf8`);
    const replies: Promise<void>[] = [];
    const clients = [0, 1].map(() => open<string>(`unix-dgram:${where}?codec=utf8`));
    try {
      await clients[0]!.send('from zero');
      await clients[1]!.send('from one');
      await clients[0]!.send('zero again');
      await until(() => server.connections.length === 2, 'two peers');
      for (const connection of server.connections as unknown as Connection<string>[]) {
        expect(connection.peer).toMatchObject({ pid: process.pid, uid: process.getuid!() });
        expect(connection.peer.address).toMatch(/^@[0-9a-f]{5}$/);
        connection.subscribe((message) => replies.push(connection.send(`ack ${message}`)));
      }
      const acks = await Promise.all(
        clients.map((client, i) => lastValueFrom(client.pipe(take(i === 0 ? 2 : 1), toArray()))),
      );
      expect(acks).toEqual([['ack from zero', 'ack zero again'], ['ack from one']]);
      await Promise.all(replies);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.stop();
    }
    expect(existsSync(where)).toBe(false);
  });

  it('serves a listening socket it inherited (socket activation), leaving its file alone', async () => {
    const where = fresh();
    const listening = native.socket('stream');
    native.socketBind(listening, where);
    native.socketListen(listening, 8);
    mkdirSync(SCRIPT_DIR, { recursive: true });
    const script = path.join(SCRIPT_DIR, `unix-activated-${process.pid}.mts`);
    writeFileSync(
      script,
      `import { listen } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
       import { firstValueFrom, mergeMap, take } from 'rxjs';
       const line = await firstValueFrom(listen('unix:?fd=3&framing=line&codec=utf8').pipe(take(1), mergeMap((c) => c)));
       console.log(line);`,
    );
    const child = spawnTracked(
      process.execPath,
      ['--import', 'tsx', '--conditions=@rxipc/source', script],
      { stdio: ['ignore', 'pipe', 'pipe', native.fdNumber(listening)] },
    );
    native.fdClose(listening); // the child has it now
    const client = open<string>(`unix:${where}?framing=line&codec=utf8`);
    try {
      await client.send('activated');
      expect(await finished(child)).toMatchObject({ code: 0, stdout: 'activated\n', stderr: '' });
      expect(statSync(where).isSocket()).toBe(true); // not the child's to remove
    } finally {
      await client.close();
    }
  });

  it('removes its socket file when the process exits while still listening', async () => {
    const where = fresh();
    mkdirSync(SCRIPT_DIR, { recursive: true });
    const script = path.join(SCRIPT_DIR, `unix-exit-${process.pid}.mts`);
    writeFileSync(
      script,
      `import { listen } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
       listen(${JSON.stringify(`unix:${where}`)}).subscribe();
       setTimeout(() => process.exit(0), 20);`,
    );
    const child = await finished(
      spawnTracked(process.execPath, ['--import', 'tsx', '--conditions=@rxipc/source', script]),
    );
    expect(child).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(where)).toBe(false);
  });
});
