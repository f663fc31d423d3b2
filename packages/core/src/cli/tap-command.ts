import { type Connection, listen, open } from '@rxipc/adapters';
import type { Observable } from 'rxjs';
import { finalize, mergeMap, take } from 'rxjs';

import { type Command, parseCommandArgs } from './commands.js';

const FORMATS = ['utf8', 'hex', 'json'] as const;
type Format = (typeof FORMATS)[number];

/**
 * `rxipc tap <uri> [--listen] [--count N] [--format utf8|hex|json]`: prints each incoming
 * message on a line; with `--listen`, of every peer that connects.
 */
export const tap: Command = {
  summary: 'print each message arriving on an endpoint',
  usage: `usage: rxipc tap <uri> [--listen] [--count N] [--format utf8|hex|json]

Opens <uri> (any scheme: fd:0, fifo:/tmp/f, unix:/run/app.sock, tcp://host:port, ...) and
prints each incoming message on its own line until the stream ends, or N messages have
arrived.
  --listen         serve <uri> instead (unix:, unix-dgram:, unix-seqpacket:, tcp:): print
                   the messages of every peer that connects, until N messages or a signal;
                   stderr says when it listens and who connects
  --count N        exit after N messages
  --format F       utf8 (default), hex, or json (the message parsed and printed compactly)

examples: seq 3 | rxipc tap 'fd:0?framing=line'
          rxipc tap --listen 'unix:/tmp/app.sock?framing=line'`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('tap', {
      args,
      allowPositionals: true,
      options: {
        count: { type: 'string' },
        format: { type: 'string', default: 'utf8' },
        listen: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new Error('tap: expected exactly one endpoint URI');
    const format = values.format as string;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new Error(
        `tap: --format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
      );
    }
    const count = values.count === undefined ? undefined : Number(values.count);
    if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
      throw new Error(
        `tap: --count must be a positive integer, got ${JSON.stringify(values.count)}`,
      );
    }

    const print = formatter(format as Format);
    if (values.listen === true) {
      await printAll(listenAll(positionals[0]!), count, print);
      return 0;
    }
    const channel = open(positionals[0]!);
    try {
      await printAll(channel, count, print);
    } finally {
      await channel.close();
    }
    return 0;
  },
};

/** Prints each message (at most `count`) and resolves when the stream ends. */
function printAll(
  source: Observable<Uint8Array>,
  count: number | undefined,
  print: (message: Uint8Array) => string,
): Promise<void> {
  const messages = count === undefined ? source : source.pipe(take(count));
  return new Promise<void>((resolve, reject) => {
    messages.subscribe({
      next: (message) => process.stdout.write(`${print(message)}\n`),
      error: reject,
      complete: resolve,
    });
  });
}

/**
 * The messages of every peer that connects to `uri`, merged. Each connection is closed when
 * its peer leaves or when tapping stops; stopping also stops listening (and removes the
 * socket file).
 */
function listenAll(uri: string): Observable<Uint8Array> {
  return listen(uri, {
    onListening: (where) => process.stderr.write(`rxipc: listening on ${where}\n`),
    onRefused: (peer) => process.stderr.write(`rxipc: refused ${describePeer(peer)}\n`),
  }).pipe(
    mergeMap((connection: Connection) => {
      process.stderr.write(`rxipc: ${describePeer(connection.peer)} connected\n`);
      return connection.pipe(finalize(() => void connection.close()));
    }),
  );
}

function describePeer(peer: Connection['peer']): string {
  const who = peer.pid !== undefined ? `pid ${peer.pid} (uid ${peer.uid}, gid ${peer.gid})` : '';
  const where = peer.address !== undefined && peer.address !== '' ? peer.address : '';
  return [who, where].filter((part) => part !== '').join(' at ') || 'a peer';
}

const decoder = new TextDecoder();

function formatter(format: Format): (message: Uint8Array) => string {
  switch (format) {
    case 'hex':
      return (message) =>
        Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('hex');
    case 'json':
      return (message) => {
        const text = decoder.decode(message);
        try {
          return JSON.stringify(JSON.parse(text));
        } catch {
          return JSON.stringify({ notJson: text });
        }
      };
    default:
      return (message) => decoder.decode(message);
  }
}
