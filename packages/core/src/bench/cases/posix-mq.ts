import type { BenchCase } from '../bench-case.js';

let serial = 0;

/**
 * POSIX message queues (mq_overview(7)): the runner creates one queue per measurement, 10
 * messages of up to 8 KiB (the limits of these machines, `/proc/sys/fs/mqueue`), and both
 * peers open it by name without owning it (`create=false`); the runner unlinks it at the end.
 * Sizes stop at `msgsize_max` (8 KiB).
 */
export const posixMqCase: BenchCase = {
  name: 'posix-mq',
  description: 'a POSIX message queue (10 x 8 KiB) opened by name by both processes',
  sizes: [64, 1024, 8192],
  cProgram: 'posix-mq.c',
  async open() {
    // Loaded here, not at the top: the harness and its other baselines work without the addon.
    const { native } = await import('@rxipc/native');
    const name = `/rxipc-bench-${process.pid}-${++serial}`;
    const queue = native.mqOpen(name, {
      read: true,
      create: true,
      exclusive: true,
      maxmsg: 10,
      msgsize: 8192,
    });
    native.fdClose(queue);
    const uri = `mq:${name}?create=false`;
    return {
      producer: { uri, cArgs: [name] },
      consumer: { uri, cArgs: [name] },
      dispose() {
        try {
          native.mqUnlink(name);
        } catch {
          // already gone
        }
      },
    };
  },
};
