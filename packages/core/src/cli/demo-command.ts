import { runDemo } from '../demo/run-demo.js';
import { type Command, parseCommandArgs } from './commands.js';

/** `rxipc demo [--seconds N]`: the three-process backpressure demo. */
export const demo: Command = {
  summary: 'run a three-process pipeline and watch backpressure hold',
  usage: `usage: rxipc demo [--seconds N]

Runs producer | stage | sink as three processes over two anonymous pipes for N seconds
(default 6). The sink takes 1 ms per message; the table shows each process's rate and
memory every second.`,
  async run(args) {
    const { values } = parseCommandArgs('demo', {
      args,
      options: { seconds: { type: 'string', default: '6' } },
    });
    const seconds = Number(values.seconds);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
      throw new Error(
        `demo: --seconds must be an integer from 1 to 3600, got ${JSON.stringify(values.seconds)}`,
      );
    }
    await runDemo({ seconds });
    return 0;
  },
};
