import { open } from '@rxipc/adapters';
import type { Observable } from 'rxjs';
import { take } from 'rxjs';

import { type Command, parseCommandArgs } from './commands.js';

const FORMATS = ['utf8', 'hex', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** `rxipc tap <uri> [--count N] [--format utf8|hex|json]`: prints each incoming message on a line. */
export const tap: Command = {
  summary: 'print each message arriving on an endpoint',
  usage: `usage: rxipc tap <uri> [--count N] [--format utf8|hex|json]

Opens <uri> (any scheme: fd:0, pipe:, ...) and prints each incoming message on its own
line until the stream ends, or N messages have arrived.
  --count N        exit after N messages
  --format F       utf8 (default), hex, or json (the message parsed and printed compactly)

example: seq 3 | rxipc tap 'fd:0?framing=line'`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('tap', {
      args,
      allowPositionals: true,
      options: { count: { type: 'string' }, format: { type: 'string', default: 'utf8' } },
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

    const channel = open(positionals[0]!);
    const messages: Observable<Uint8Array> =
      count === undefined ? channel : channel.pipe(take(count));
    const print = formatter(format as Format);
    try {
      await new Promise<void>((resolve, reject) => {
        messages.subscribe({
          next: (message) => process.stdout.write(`${print(message)}\n`),
          error: reject,
          complete: resolve,
        });
      });
    } finally {
      await channel.close();
    }
    return 0;
  },
};

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
