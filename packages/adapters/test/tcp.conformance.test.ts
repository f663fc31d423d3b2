import { firstValueFrom, take } from 'rxjs';
import { afterAll, describe, it } from 'vitest';

import { type Connection, listen, open, type OpenOptions } from '../src/index.js';
import { CHANNEL_ENV } from '../src/pipe/pipe-link.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';
import { killChildren, spawnTracked } from './socket-support.js';

// Each case kills its own children; this catches any a failure left.
afterAll(killChildren);

const MAX = 1024 * 1024;

/** Listens on a port the kernel chooses and resolves with the URI and the first connection. */
function listenOnce(options: OpenOptions): { uri: Promise<string>; accepted: Promise<Connection> } {
  let bound: (uri: string) => void = () => {};
  const uri = new Promise<string>((resolve) => (bound = resolve));
  const accepted = firstValueFrom(
    listen('tcp://127.0.0.1:0', { ...options, onListening: bound }).pipe(take(1)),
  );
  return { uri, accepted };
}

const tcp: ConformanceTarget = {
  name: 'tcp',
  maxMessageSize: MAX,
  async pair(options = {}) {
    const { uri, accepted } = listenOnce({ maxFrameSize: MAX, ...options });
    const writer = open(await uri, { maxFrameSize: MAX, ...options });
    writer.subscribe().unsubscribe(); // connect now
    return { writer, reader: await accepted };
  },
  async spawn(args) {
    const { uri, accepted } = listenOnce({ maxFrameSize: MAX });
    const child = spawnTracked(process.execPath, args, {
      env: { ...process.env, [CHANNEL_ENV]: `${await uri}?maxFrameSize=${MAX}` },
    });
    return { channel: await accepted, child };
  },
  // Port 1 on the loopback: nothing listens there.
  systemError: () =>
    firstValueFrom(open('tcp://127.0.0.1:1')).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('tcp conformance', () => {
  for (const c of conformanceCases(tcp)) {
    // The cross-process cases mostly wait on their children: run them side by side.
    (c.crossProcess === true ? it.concurrent : it)(c.name, c.run, c.timeoutMs);
  }
});
