import { firstValueFrom } from 'rxjs';
import { afterAll, describe, it } from 'vitest';

import { open } from '../src/index.js';
import { CHANNEL_ENV } from '../src/pipe/pipe-link.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';
import { entries, killChildren, removeTempDirs, spawnTracked, tempDir } from './socket-support.js';

// Each case kills its own children; this catches any a failure left.
afterAll(killChildren);
afterAll(removeTempDirs);

const MAX = 1024 * 1024;
const dir = tempDir('fifo-conformance');
let n = 0;

const fifos: ConformanceTarget = {
  name: 'fifo',
  maxMessageSize: MAX,
  // One FIFO, two channels: one writes, the other reads (each opens only the end it uses).
  pair(options = {}) {
    const uri = `fifo:${dir}/pair-${++n}`;
    return {
      writer: open(uri, { maxFrameSize: MAX, ...options }),
      reader: open(uri, { maxFrameSize: MAX, ...options }),
    };
  },
  spawn(args) {
    const uri = `fifo:${dir}/spawn-${++n}`;
    const channel = open(uri, { maxFrameSize: MAX });
    const child = spawnTracked(process.execPath, args, {
      env: { ...process.env, [CHANNEL_ENV]: `${uri}?maxFrameSize=${MAX}` },
    });
    return { channel, child };
  },
  snapshot: () => entries(dir),
  systemError: () =>
    firstValueFrom(open(`fifo:${dir}/missing/fifo`)).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('fifo conformance', () => {
  for (const c of conformanceCases(fifos)) {
    // The cross-process cases mostly wait on their children: run them side by side.
    (c.crossProcess === true ? it.concurrent : it)(c.name, c.run, c.timeoutMs);
  }
});
