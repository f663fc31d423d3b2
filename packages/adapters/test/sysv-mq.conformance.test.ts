import { execFileSync, spawn } from 'node:child_process';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, it } from 'vitest';

import { native } from '@rxipc/native';

import { CHANNEL_ENV, open } from '../src/index.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';
import { keyLabelOf, removeQueues, sysvKey, trackSysvId } from './mq-support.js';

afterEach(removeQueues);

// msgmax: the largest System V message here (8192 on these machines).
const MSGMAX = 8192;
// Keys of this process's tests start with these six hex digits (see sysvKey).
const OUR_KEYS = keyLabelOf(sysvKey()).slice(0, 8);

const sysvQueues: ConformanceTarget = {
  name: 'sysv-mq',
  maxMessageSize: MSGMAX,
  pair(options = {}) {
    const uri = `sysv-mq:${keyLabelOf(sysvKey())}`;
    return { writer: open(uri, options), reader: open(uri, options) };
  },
  spawn(args) {
    // A keyless queue for this process and its child, which attaches by identifier.
    const queue = native.msgget(0, { create: true });
    const id = native.msgId(queue);
    native.msgClose(queue);
    trackSysvId(id);
    const channel = open(`sysv-mq:id:${id}`);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [CHANNEL_ENV]: `sysv-mq:id:${id}` },
    });
    return { channel, child };
  },
  // Our queues as `ipcs -q` lists them (keys of this process only: others run in parallel).
  snapshot: () =>
    execFileSync('ipcs', ['-q'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((key) => key.startsWith(OUR_KEYS)),
  systemError: () =>
    firstValueFrom(open(`sysv-mq:${keyLabelOf(sysvKey())}?create=false`)).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('sysv-mq conformance', () => {
  for (const c of conformanceCases(sysvQueues)) it(c.name, c.run, c.timeoutMs);
});
