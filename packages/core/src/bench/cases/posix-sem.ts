import type { LockBenchCase } from '../lock-case.js';

let serial = 0;

/** POSIX named semaphores (sem_overview(7)), opened by name in both peers. */
export const posixSemCase: LockBenchCase = {
  name: 'posix-sem',
  description: 'POSIX named semaphores (sem_open), by name',
  async pingPong() {
    const { native } = await import('@rxipc/native');
    const names = [0, 1].map((i) => `/rxipc-bench-${process.pid}-${++serial}-${i}`);
    const sems = names.map((name) =>
      native.semOpen(name, { create: true, exclusive: true, value: 0 }),
    );
    return {
      args: names,
      dispose: () => {
        sems.forEach((sem) => native.semClose(sem));
        names.forEach((name) => native.semUnlink(name));
      },
    };
  },
  async uncontended() {
    const { native } = await import('@rxipc/native');
    const name = `/rxipc-bench-${process.pid}-${++serial}`;
    const sem = native.semOpen(name, { create: true, exclusive: true, value: 1 });
    return {
      args: [name],
      dispose: () => {
        native.semClose(sem);
        native.semUnlink(name);
      },
    };
  },
};
