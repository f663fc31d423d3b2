import type { BenchCase } from '../bench-case.js';

/**
 * Anonymous pipes (pipe(7)): the runner makes one pipe per measurement and hands the write
 * end to the producer and the read end to the consumer, each as its fd 3. Both ends start
 * blocking (the C program uses them as they come; rxipc's `fd:` adapter sets `O_NONBLOCK`
 * on its own copy). The pipe has the kernel's default capacity (64 KiB).
 */
export const pipeCase: BenchCase = {
  name: 'pipe',
  description: 'an anonymous pipe, inherited as fd 3 by both processes',
  cProgram: 'pipe.c',
  async open() {
    // Loaded here, not at the top: the harness and its other baselines work without the addon.
    const { native } = await import('@rxipc/native');
    const [read, write] = native.pipe({ nonblock: false });
    // fdClose is idempotent, so this serves both as afterSpawn and as dispose.
    const release = (): void => {
      native.fdClose(read);
      native.fdClose(write);
    };
    return {
      producer: { uri: 'fd:3', fds: [native.fdNumber(write)], cArgs: ['3'] },
      consumer: { uri: 'fd:3', fds: [native.fdNumber(read)], cArgs: ['3'] },
      afterSpawn: release,
      dispose: release,
    };
  },
};
