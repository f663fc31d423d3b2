import type { BenchCase } from '../bench-case.js';

let serial = 0;

/** Ring geometry for every size the bench uses: 8 slots of 1 MiB per direction. */
export const SHM_RING_SLOTS = 8;
export const SHM_RING_SLOT_SIZE = 1024 * 1024;

/**
 * Shared-memory rings (`shm:`): one POSIX segment per measurement. The consumer creates it
 * (rxipc's `rx-consumer` when it subscribes, the C program in `read` mode) before it reports
 * ready, and the producer joins it by name, which also removes the name; the runner removes a
 * name that is still there at the end. 8 slots of 1 MiB per direction, so one geometry serves
 * every size up to 1 MiB (and holds some 130,000 messages of 64 bytes). The C program speaks
 * the same ring protocol (`bench-c/shm-ring.c`).
 */
export const shmRingCase: BenchCase = {
  name: 'shm-ring',
  description: 'a shared-memory ring (shm:, 8 x 1 MiB slots) created by the consumer',
  sizes: [0, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
  cProgram: 'shm-ring.c',
  async open() {
    // Loaded here, not at the top: the harness and its other baselines work without the addon.
    const { native } = await import('@rxipc/native');
    const name = `/rxipc-bench-${process.pid}-ring-${++serial}`;
    const uri = `shm:${name}?slots=${SHM_RING_SLOTS}&slotSize=${SHM_RING_SLOT_SIZE}`;
    return {
      producer: { uri, cArgs: [name] },
      consumer: { uri, cArgs: [name, String(SHM_RING_SLOTS), String(SHM_RING_SLOT_SIZE)] },
      dispose() {
        try {
          native.shmUnlink(name);
        } catch {
          // removed by the producer when it joined: the usual case
        }
      },
    };
  },
};
