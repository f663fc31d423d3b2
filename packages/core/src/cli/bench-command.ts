import { formatTable, runBench } from '../bench/index.js';
import { type Command, parseCommandArgs } from './commands.js';

/** `rxipc bench [--quick]`: the benchmark matrix, with ratios against same-run baselines. */
export const bench: Command = {
  summary: 'measure every mechanism against C and Node baselines',
  usage: `usage: rxipc bench [--quick]

Runs the benchmark matrix (mechanism x message size x same/cross vCPU placement), prints a
table with ratios against baselines measured in the same run (a C program of the same
mechanism, a raw Node net Unix socket, child_process.send), and writes JSON to
bench/results/.
  --quick          tiny counts, one run (a smoke test, not a measurement)`,
  async run(args) {
    const { values } = parseCommandArgs('bench', {
      args,
      options: { quick: { type: 'boolean', default: false } },
    });
    const report = await runBench({ quick: values.quick === true });
    process.stdout.write(`${formatTable(report)}\n`);
    return 0;
  },
};
