import { firstValueFrom } from 'rxjs';
import { describe, it } from 'vitest';

import { open, pipeLink } from '../src/index.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';

const MAX = 1024 * 1024;

const pipes: ConformanceTarget = {
  name: 'pipe',
  maxMessageSize: MAX,
  pair(options = {}) {
    const channel = open('pipe:', { maxFrameSize: MAX, ...options });
    return { writer: channel, reader: channel };
  },
  spawn(args) {
    const link = pipeLink({ maxFrameSize: MAX });
    const child = link.spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return { channel: link.channel, child };
  },
  systemError: () =>
    firstValueFrom(open('fd:987654')).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('pipe conformance', () => {
  for (const c of conformanceCases(pipes)) it(c.name, c.run, c.timeoutMs);
});
