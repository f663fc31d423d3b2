import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { BenchCase } from '../bench-case.js';

/**
 * Named pipes (fifo(7)): the runner makes one FIFO per measurement in a private temporary
 * directory and removes it at the end; both peers open it by path without owning it
 * (`create=false`). rxipc's reader opens without waiting and its writer retries until the
 * reader is there; the C program (`fifo.c`) uses blocking opens, as a plain program does.
 */
export const fifoCase: BenchCase = {
  name: 'fifo',
  description: 'a named pipe (64 KiB) opened by path by both processes',
  cProgram: 'fifo.c',
  async open() {
    // Loaded here, not at the top: the harness and its other baselines work without the addon.
    const { native } = await import('@rxipc/native');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rxipc-bench-fifo-'));
    const fifo = path.join(dir, 'fifo');
    native.mkfifo(fifo, 0o600);
    const uri = `fifo:${fifo}?create=false`;
    return {
      producer: { uri, cArgs: [fifo] },
      consumer: { uri, cArgs: [fifo] },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};
