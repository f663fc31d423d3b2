import { afterAll, describe, it } from 'vitest';

import { conformanceCases } from '../src/testkit/index.js';
import { killChildren, removeTempDirs } from './socket-support.js';
import { connectionTarget } from './unix-targets.js';

// Each case kills its own children; this catches any a failure left.
afterAll(killChildren);
afterAll(removeTempDirs);

describe('unix seqpacket socket conformance', () => {
  for (const c of conformanceCases(connectionTarget('unix-seqpacket', 'seqpacket'))) {
    // The cross-process cases mostly wait on their children: run them side by side.
    (c.crossProcess === true ? it.concurrent : it)(c.name, c.run, c.timeoutMs);
  }
});
