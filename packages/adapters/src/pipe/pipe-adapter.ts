import * as E from 'fp-ts/lib/Either.js';

import { native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import { fdTransport } from '../fd/fd-transport.js';

/**
 * `pipe:` is a new anonymous pipe (pipe(7)) looped back to this process: what the channel
 * sends, it reads. Useful in tests and between parts of one program; to talk to a child
 * process, use {@link pipeLink}, which makes two pipes and hands the child its ends.
 */
export const pipeAdapter = defineAdapter<Record<string, never>>({
  scheme: 'pipe',
  kind: 'stream',
  description: 'a new anonymous pipe, looped back (use pipeLink() for a child process)',
  parse(parts) {
    return parts.body === ''
      ? E.right({})
      : E.left([`pipe: takes no address, got ${JSON.stringify(parts.body)}`]);
  },
  connect() {
    const [read, write] = native.pipe();
    return fdTransport({ read, write });
  },
});
