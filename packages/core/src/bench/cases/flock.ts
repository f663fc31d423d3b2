import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { LockBenchCase } from '../lock-case.js';

let serial = 0;

/** flock(2) on a file (rxipc opens one description per acquisition). */
export const flockCase: LockBenchCase = {
  name: 'flock',
  description: 'flock(2) on a file (rxipc opens one description per acquisition)',
  uncontended() {
    const file = path.join(os.tmpdir(), `rxipc-bench-${process.pid}-${++serial}.lock`);
    return { args: [file], dispose: () => rmSync(file, { force: true }) };
  },
};
