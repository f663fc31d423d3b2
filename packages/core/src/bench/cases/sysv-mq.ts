import type { BenchCase } from '../bench-case.js';

/**
 * System V message queues (sysvipc(7)): the runner creates one keyless queue (`IPC_PRIVATE`)
 * per measurement, with the system's default size (`msgmnb`, 16 KiB here), and both peers
 * open it by identifier (`sysv-mq:id:N`, which they do not own); the runner removes it at the
 * end. Sizes stop at `msgmax` (8 KiB).
 */
export const sysvMqCase: BenchCase = {
  name: 'sysv-mq',
  description: 'a System V message queue (IPC_PRIVATE, 16 KiB) opened by identifier',
  sizes: [64, 1024, 8192],
  cProgram: 'sysv-mq.c',
  async open() {
    // Loaded here, not at the top: the harness and its other baselines work without the addon.
    const { native } = await import('@rxipc/native');
    const queue = native.msgget(0, { create: true, mode: 0o600 });
    const id = native.msgId(queue);
    const uri = `sysv-mq:id:${id}`;
    return {
      producer: { uri, cArgs: [String(id)] },
      consumer: { uri, cArgs: [String(id)] },
      dispose() {
        try {
          native.msgRmid(queue);
        } catch {
          // already gone
        } finally {
          native.msgClose(queue);
        }
      },
    };
  },
};
