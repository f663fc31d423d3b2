import { afterAll, afterEach, describe, it } from 'vitest';

import { conformanceCases } from '../src/testkit/index.js';
import { killChildren, removeTempDirs } from './socket-support.js';
import { datagrams } from './unix-targets.js';

afterEach(killChildren);
afterAll(removeTempDirs);

describe('unix datagram socket conformance', () => {
  for (const c of conformanceCases(datagrams)) it(c.name, c.run, c.timeoutMs);
});
