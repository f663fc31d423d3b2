import type { LockBenchCase } from '../lock-case.js';

/** An unnamed process-shared POSIX semaphore (sem_init) in a memfd segment both peers map. */
export const sharedSemCase: LockBenchCase = {
  name: 'shared-sem',
  description: 'an unnamed sem_t in a shared memfd segment (fd 3)',
  async uncontended() {
    const { native } = await import('@rxipc/native');
    const fd = native.memfdCreate('rxipc-bench-sem');
    native.shmTruncate(fd, 4096);
    const mapping = native.shmMap(fd);
    native.semClose(native.semInit(mapping, 0, 1));
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
