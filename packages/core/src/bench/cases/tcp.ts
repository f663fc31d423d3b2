import { type AddressInfo, createServer, connect, type Socket } from 'node:net';

import type { BenchCase } from '../bench-case.js';

/**
 * TCP over the loopback: the runner connects a pair of TCP sockets per measurement (a
 * listener on 127.0.0.1, port chosen by the kernel, closed once the pair exists) and hands
 * one end to each peer as its fd 3; rxipc opens it as `tcp:?fd=3` (Node's `net` underneath,
 * `TCP_NODELAY` on, as rxipc's default), the C program is pipe.c's (`stream-socket.c`, which
 * makes its descriptor blocking and leaves Nagle on, as a plain program does).
 */
export const tcpCase: BenchCase = {
  name: 'tcp',
  description: 'a TCP connection over the loopback, inherited as fd 3 by both processes',
  cProgram: 'stream-socket.c',
  async open() {
    const [producerEnd, consumerEnd] = await tcpPair();
    const release = (): void => {
      producerEnd.destroy();
      consumerEnd.destroy();
    };
    const uri = 'tcp:?fd=3';
    return {
      producer: { uri, fds: [fdOf(producerEnd)], cArgs: ['3'] },
      consumer: { uri, fds: [fdOf(consumerEnd)], cArgs: ['3'] },
      afterSpawn: release,
      dispose: release,
    };
  },
};

async function tcpPair(): Promise<[Socket, Socket]> {
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    client.pause();
    return [client, await accepted];
  } finally {
    server.close();
  }
}

/** The descriptor under a connected `net.Socket` (libuv exposes it on Unix). */
function fdOf(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no descriptor under the TCP socket');
  return fd;
}
