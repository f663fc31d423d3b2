import { afterAll, afterEach, describe, it } from 'vitest';

import { conformanceCases } from '../src/testkit/index.js';
import { killChildren, removeTempDirs } from './socket-support.js';
import { connectionTarget } from './unix-targets.js';

afterEach(killChildren);
afterAll(removeTempDirs);

describe('unix seqpacket socket conformance', () => {
  for (const c of conformanceCases(connectionTarget('unix-seqpacket', 'seqpacket')))
    it(c.name, c.run, c.timeoutMs);
});
