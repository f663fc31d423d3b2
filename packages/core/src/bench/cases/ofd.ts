import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { LockBenchCase } from '../lock-case.js';

let serial = 0;

/** an OFD record lock, fcntl(F_OFD_SETLK), on a file (one description per acquisition). */
export const ofdCase: LockBenchCase = {
  name: 'ofd',
  description:
    'an OFD record lock, fcntl(F_OFD_SETLK), on a file (one description per acquisition)',
  uncontended() {
    const file = path.join(os.tmpdir(), `rxipc-bench-${process.pid}-${++serial}.lock`);
    return { args: [file], dispose: () => rmSync(file, { force: true }) };
  },
};
