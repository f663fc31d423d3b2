import { defaultResultsDir, formatTable, runBench } from '../bench/index.js';
import { type Command, parseCommandArgs } from './commands.js';

/** `rxipc bench [--quick] [--mechanism M ...]`: the benchmark matrix, with same-run baselines. */
export const bench: Command = {
  summary: 'measure every mechanism against C and Node baselines',
  usage: `usage: rxipc bench [--quick] [--mechanism NAME ...]

Runs the benchmark matrix (mechanism x message size x same/cross vCPU placement), prints a
table with ratios against baselines measured in the same run (a C program of the same
mechanism, a raw Node net Unix socket, child_process.send), and writes JSON to
bench/results/ (latest.json and a timestamped copy).
  --quick          tiny counts, one run (a smoke test, not a measurement)
  --mechanism M    only this mechanism (repeatable), e.g. --mechanism pipe`,
  async run(args) {
    const { values } = parseCommandArgs('bench', {
      args,
      options: {
        quick: { type: 'boolean', default: false },
        mechanism: { type: 'string', multiple: true },
      },
    });
    const interactive = process.stderr.isTTY === true;
    const report = await runBench({
      quick: values.quick === true,
      json: defaultResultsDir(),
      ...(values.mechanism !== undefined ? { mechanisms: values.mechanism as string[] } : {}),
      onProgress: (p) => {
        if (p.phase !== 'run') return;
        const line = `bench ${p.done}/${p.total}: ${p.contender} ${p.size} B ${p.placement}`;
        process.stderr.write(interactive ? `\r${line.padEnd(60)}` : `${line}\n`);
      },
    });
    if (interactive) process.stderr.write('\n');
    process.stdout.write(`${formatTable(report)}\n`);
    return 0;
  },
};
