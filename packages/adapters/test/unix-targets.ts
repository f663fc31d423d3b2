/**
 * Conformance targets for the three Unix socket types (shared by their conformance test files,
 * so that the three run in parallel).
 */
import { firstValueFrom, take } from 'rxjs';

import { native, type SocketType } from '@rxipc/native';

import {
  type Channel,
  type Connection,
  listen,
  open,
  type OpenOptions,
  unixSocket,
} from '../src/index.js';
import { CHANNEL_ENV } from '../src/pipe/pipe-link.js';
import type { ConformanceTarget } from '../src/testkit/index.js';
import { entries, spawnTracked, tempDir } from './socket-support.js';

const STREAM_MAX = 1024 * 1024;
// What a Unix datagram or seqpacket socket carries by default: SO_SNDBUF (212,992 here)
// minus the kernel's 32 bytes.
const MESSAGE_MAX = defaultMessageMax();
const dir = tempDir('unix-conformance');
let n = 0;

/** Listens on a fresh path, connects a client, and resolves with both ends. */
async function connectedPair(
  scheme: string,
  options: OpenOptions,
): Promise<{ client: Channel; server: Connection }> {
  const uri = `${scheme}:${dir}/s-${++n}.sock`;
  // take(1): the listener stops (and removes its socket file) once the client is accepted.
  const accepted = firstValueFrom(listen(uri, options).pipe(take(1)));
  const client = open(uri, options);
  // A channel connects on first use; subscribing once (and leaving) makes it connect now.
  client.subscribe().unsubscribe();
  return { client, server: await accepted };
}

export function connectionTarget(scheme: string, type: SocketType): ConformanceTarget {
  const max = type === 'stream' ? STREAM_MAX : MESSAGE_MAX;
  const sized: OpenOptions = type === 'stream' ? { maxFrameSize: STREAM_MAX } : {};
  return {
    name: scheme,
    maxMessageSize: max,
    // recv(2) returns 0 for an empty seqpacket message and for end of stream alike.
    emptyMessages: type !== 'seqpacket',
    async pair(options = {}) {
      const { client, server } = await connectedPair(scheme, { ...sized, ...options });
      return { writer: client, reader: server };
    },
    async spawn(args) {
      const uri = `${scheme}:${dir}/spawn-${++n}.sock`;
      const accepted = firstValueFrom(listen(uri, sized).pipe(take(1)));
      const query = type === 'stream' ? `?maxFrameSize=${STREAM_MAX}` : '';
      const child = spawnTracked(process.execPath, args, {
        env: { ...process.env, [CHANNEL_ENV]: `${uri}${query}` },
      });
      return { channel: await accepted, child };
    },
    snapshot: () => entries(dir),
    systemError: () =>
      firstValueFrom(open(`${scheme}:${dir}/nobody-listens.sock`)).then(
        () => undefined,
        (error: unknown) => error,
      ),
  };
}

// Datagrams have no connection to accept before the first datagram, so the pair is a
// socketpair(2); the child inherits its end as fd 3 and ends the stream with an empty
// datagram (eof=empty), the datagram convention rxipc offers for it.
export const datagrams: ConformanceTarget = {
  name: 'unix-dgram',
  maxMessageSize: MESSAGE_MAX,
  pair(options = {}) {
    const [a, b] = native.socketpair('dgram');
    return {
      writer: unixSocket({ type: 'dgram', handle: a, ...options }),
      reader: unixSocket({ type: 'dgram', handle: b, ...options }),
    };
  },
  spawn(args) {
    const [mine, theirs] = native.socketpair('dgram');
    const channel = unixSocket({ type: 'dgram', handle: mine, eof: true });
    try {
      const child = spawnTracked(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe', native.fdNumber(theirs)],
        env: { ...process.env, [CHANNEL_ENV]: 'unix-dgram:?fd=3&eof=empty' },
      });
      return { channel, child };
    } finally {
      native.fdClose(theirs);
    }
  },
  snapshot: () => entries(dir),
  systemError: () =>
    firstValueFrom(open(`unix-dgram:${dir}/nobody-bound.sock`)).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

function defaultMessageMax(): number {
  const socket = native.socket('dgram');
  try {
    return native.socketGetOption(socket, 'SO_SNDBUF') - 32;
  } finally {
    native.fdClose(socket);
  }
}
