import type { LockBenchCase } from '../lock-case.js';

/**
 * System V semaphore sets (semop(2)): a private set of two, reached by id. Ping-pong uses
 * semaphores 0 and 1 without undo; uncontended acquisitions use SEM_UNDO, as rxipc's permits do.
 */
export const sysvSemCase: LockBenchCase = {
  name: 'sysv-sem',
  description: 'a System V semaphore set (semop), by id',
  pingPong: () => privateSet(0),
  uncontended: () => privateSet(1),
};

async function privateSet(value: number) {
  const { native } = await import('@rxipc/native');
  const set = native.sysvSemGet(0, 2, { create: true });
  native.sysvSemSetValue(set, 0, value);
  return {
    args: [String(native.sysvSemId(set))],
    dispose: () => {
      native.sysvSemRemove(set);
      native.sysvSemClose(set);
    },
  };
}
