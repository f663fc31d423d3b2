import type { SocketType } from '@rxipc/native';

import type { BenchCase } from '../bench-case.js';

/**
 * Unix domain sockets (unix(7)) of one type: the runner makes a connected pair
 * (`socketpair(2)`) per measurement and hands one end to each peer as its fd 3; rxipc opens
 * it as `unix:?fd=3` (or `unix-dgram:`, `unix-seqpacket:`). A connected pair is what
 * `listen()` and a client end up with after accept and connect. Stream sockets carry rxipc's
 * length-prefixed frames (the C program is pipe.c's, `stream-socket.c`); datagram and
 * seqpacket sockets one kernel message per message (`unix-message.c`).
 */
function unixSocketCase(type: SocketType): BenchCase {
  const scheme = type === 'stream' ? 'unix' : `unix-${type}`;
  return {
    name: scheme === 'unix' ? 'unix-stream' : scheme,
    description: `a Unix ${type} socket pair, inherited as fd 3 by both processes`,
    cProgram: type === 'stream' ? 'stream-socket.c' : 'unix-message.c',
    async open() {
      const { native } = await import('@rxipc/native');
      const [producerEnd, consumerEnd] = native.socketpair(type);
      // fdClose is idempotent, so this serves both as afterSpawn and as dispose.
      const release = (): void => {
        native.fdClose(producerEnd);
        native.fdClose(consumerEnd);
      };
      const uri = `${scheme}:?fd=3`;
      return {
        producer: { uri, fds: [native.fdNumber(producerEnd)], cArgs: ['3'] },
        consumer: { uri, fds: [native.fdNumber(consumerEnd)], cArgs: ['3'] },
        afterSpawn: release,
        dispose: release,
      };
    },
  };
}

/** A Unix stream socket pair. */
export const unixStreamCase = unixSocketCase('stream');
/** A Unix datagram socket pair. */
export const unixDgramCase = unixSocketCase('dgram');
/** A Unix seqpacket socket pair. */
export const unixSeqpacketCase = unixSocketCase('seqpacket');
