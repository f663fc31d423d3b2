import { firstValueFrom } from 'rxjs';
import { afterEach, describe, it } from 'vitest';

import { open } from '../src/index.js';
import { CHANNEL_ENV } from '../src/pipe/pipe-link.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';
import { spawn } from 'node:child_process';
import { existingQueues, queueName, removeQueues } from './mq-support.js';

afterEach(removeQueues);

// The largest message a queue can carry here: msgsize_max (8192 on these machines). Ten
// such messages take about 82 KiB of the user's RLIMIT_MSGQUEUE (800 KiB).
const MSGSIZE = 8192;

const posixQueues: ConformanceTarget = {
  name: 'posix-mq',
  maxMessageSize: MSGSIZE,
  pair(options = {}) {
    const uri = `mq:${queueName()}?maxmsg=10&msgsize=${MSGSIZE}`;
    return { writer: open(uri, options), reader: open(uri, options) };
  },
  spawn(args) {
    const uri = `mq:${queueName()}?maxmsg=10&msgsize=${MSGSIZE}`;
    const channel = open(uri);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [CHANNEL_ENV]: uri },
    });
    return { channel, child };
  },
  // /dev/mqueue is not mounted here: probe the names this process used.
  snapshot: () => existingQueues(),
  systemError: () =>
    firstValueFrom(open(`mq:${queueName()}?create=false`)).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('posix-mq conformance', () => {
  for (const c of conformanceCases(posixQueues)) it(c.name, c.run, c.timeoutMs);
});
