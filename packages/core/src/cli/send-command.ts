import { open, writeAll } from '@rxipc/adapters';

import { type Command, parseCommandArgs } from './commands.js';

const encoder = new TextEncoder();

/** `rxipc send <uri> [message ...]`: sends each argument, or each line of stdin, as a message. */
export const send: Command = {
  summary: 'send messages (arguments, or stdin lines) to an endpoint',
  usage: `usage: rxipc send <uri> [message ...]

Sends each argument as one message (UTF-8), or each line of stdin when no message is given,
then waits until the kernel has accepted them all (writes are in order, so the last
acceptance means every one was accepted).

examples: rxipc send fd:1 hello world
          seq 10 | rxipc send 'fd:1?framing=line'
          rxipc send 'unix:/tmp/app.sock?framing=line' status   (fifo:, unix-dgram:, tcp:// too)`,
  async run(args) {
    const { positionals } = parseCommandArgs('send', { args, allowPositionals: true, options: {} });
    const [uri, ...messages] = positionals;
    if (uri === undefined) throw new Error('send: expected an endpoint URI');
    const channel = open(uri);
    try {
      if (messages.length > 0) {
        await writeAll(
          channel,
          messages.map((message) => encoder.encode(message)),
        );
      } else {
        const stdin = open('fd:0?framing=line');
        try {
          // Lines are forwarded as they come; reading stdin pauses while the endpoint is full.
          await writeAll(channel, stdin);
        } finally {
          await stdin.close();
        }
      }
    } finally {
      await channel.close();
    }
    return 0;
  },
};
