import type { LockBenchCase } from '../lock-case.js';

/** A robust process-shared pthread mutex in a memfd segment (fd 3). */
export const robustMutexCase: LockBenchCase = {
  name: 'robust-mutex',
  description: 'a robust pthread mutex in a shared memfd segment (fd 3)',
  async uncontended() {
    const { native } = await import('@rxipc/native');
    const fd = native.memfdCreate('rxipc-bench-mutex');
    native.shmTruncate(fd, 4096);
    const mapping = native.shmMap(fd);
    native.robustMutexClose(native.robustMutexInit(mapping, 0));
    return {
      args: ['3'],
      fds: [native.fdNumber(fd)],
      dispose: () => {
        native.shmUnmap(mapping);
        native.fdClose(fd);
      },
    };
  },
};
