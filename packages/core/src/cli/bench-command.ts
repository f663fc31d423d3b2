import {
  defaultResultsDir,
  formatLockTable,
  formatShmRingReport,
  formatTable,
  lockBenchCases,
  QUICK_SHM_RING_REPORT,
  readBenchReport,
  runBench,
  runLockBench,
  runShmRingReport,
  writeBenchCharts,
  writeLockReport,
  writeShmRingReport,
} from '../bench/index.js';
import { type Command, parseCommandArgs } from './commands.js';

/**
 * `rxipc bench [--quick] [--mechanism M ...] [--from FILE]`: the benchmark matrix, with
 * same-run baselines, as a table, JSON and an SVG chart.
 */
export const bench: Command = {
  summary: 'measure every mechanism against C and Node baselines',
  usage: `usage: rxipc bench [--quick] [--mechanism NAME ...] [--size BYTES ...]
                   [--placement same|cross] [--out DIR] [--from FILE.json]
                   [--skip-ring-report]

Runs the benchmark matrix (mechanism x message size x same/cross vCPU placement), prints a
table with ratios against baselines measured in the same run (a C program of the same
mechanism, a raw Node net Unix socket, child_process.send), and writes JSON to
bench/results/ (latest.json and a timestamped copy), each with an SVG chart beside it
(latest.svg: MB/s per mechanism and message size, next to the baselines). Then the
shared-memory ring's own report (shm-ring-latest.json): 64-byte messages next to a batched
raw Node socket, 1 MiB messages copied and zero-copy next to the C ring, round-trip latency.
  --quick          tiny counts, one run (a smoke test, not a measurement)
  --mechanism M    only this mechanism (repeatable), e.g. --mechanism pipe; the lock bench
                   (posix-sem, sysv-sem, shared-sem, flock, ofd, robust-mutex) runs first:
                   semaphore ping-pong latency and uncontended acquire/release, next to C
  --size BYTES     only this message size (repeatable); default 64, 1024 and 65536
  --placement P    only this placement (repeatable): same or cross
  --out DIR        write the report and chart there instead of bench/results/
  --from FILE      measure nothing: print the table of a saved report and chart it
  --skip-ring-report
                   leave out the shared-memory ring's own report (about 5 minutes)`,
  async run(args) {
    const { values } = parseCommandArgs('bench', {
      args,
      options: {
        quick: { type: 'boolean', default: false },
        mechanism: { type: 'string', multiple: true },
        from: { type: 'string' },
        size: { type: 'string', multiple: true },
        placement: { type: 'string', multiple: true },
        out: { type: 'string' },
        'skip-ring-report': { type: 'boolean', default: false },
      },
    });
    if (values.from !== undefined) {
      const from = values.from as string;
      const saved = await readBenchReport(from);
      const charts = await writeBenchCharts(saved, [from]);
      process.stdout.write(`${formatTable({ ...saved, files: [] })}`);
      for (const file of charts) process.stdout.write(`wrote ${file}\n`);
      return 0;
    }
    const interactive = process.stderr.isTTY === true;
    // Semaphores and locks carry no data: the lock bench measures them, after the matrix.
    const requested = values.mechanism as string[] | undefined;
    const lockNames = requested?.filter((name) => lockBenchCases().has(name));
    const matrixNames = requested?.filter((name) => !lockBenchCases().has(name));
    if (lockNames === undefined || lockNames.length > 0) {
      const locks = await runLockBench({
        quick: values.quick === true,
        ...(lockNames !== undefined ? { mechanisms: lockNames } : {}),
        ...(values.placement !== undefined
          ? { placements: (values.placement as string[]).map(toPlacement) }
          : {}),
        onProgress: (p) => {
          const line = `lock bench ${p.done}/${p.total}: ${p.what}`;
          process.stderr.write(interactive ? `\r${line.padEnd(60)}` : `${line}\n`);
        },
      });
      if (interactive) process.stderr.write('\n');
      const files = await writeLockReport(
        locks,
        (values.out as string | undefined) ?? defaultResultsDir(),
      );
      process.stdout.write(`${formatLockTable(locks)}`);
      for (const file of files) process.stdout.write(`wrote ${file}\n`);
      process.stdout.write('\n');
      if (matrixNames !== undefined && matrixNames.length === 0) return 0;
    }
    const report = await runBench({
      quick: values.quick === true,
      json: (values.out as string | undefined) ?? defaultResultsDir(),
      ...(matrixNames !== undefined ? { mechanisms: matrixNames } : {}),
      ...(values.size !== undefined ? { sizes: (values.size as string[]).map(toSize) } : {}),
      ...(values.placement !== undefined
        ? { placements: (values.placement as string[]).map(toPlacement) }
        : {}),
      onProgress: (p) => {
        if (p.phase !== 'run') return;
        const line = `bench ${p.done}/${p.total}: ${p.contender} ${p.size} B ${p.placement}`;
        process.stderr.write(interactive ? `\r${line.padEnd(60)}` : `${line}\n`);
      },
    });
    if (interactive) process.stderr.write('\n');
    const charts = await writeBenchCharts(report);
    process.stdout.write(`${formatTable(report)}`);
    for (const file of charts) process.stdout.write(`wrote ${file}\n`);
    process.stdout.write('\n');
    if (values['skip-ring-report'] !== true && (matrixNames?.includes('shm-ring') ?? true)) {
      const ring = await runShmRingReport({
        ...(values.quick === true ? QUICK_SHM_RING_REPORT : {}),
        ...(values.placement !== undefined
          ? { placements: (values.placement as string[]).map(toPlacement) }
          : {}),
        onProgress: (line) => {
          const text = `ring report: ${line}`;
          process.stderr.write(interactive ? `\r${text.padEnd(60)}` : `${text}\n`);
        },
      });
      if (interactive) process.stderr.write('\n');
      const file = await writeShmRingReport(
        ring,
        (values.out as string | undefined) ?? defaultResultsDir(),
      );
      process.stdout.write(`${formatShmRingReport(ring)}\nwrote ${file}\n`);
    }
    return 0;
  },
};

function toSize(text: string): number {
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`bench: --size must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return size;
}

function toPlacement(text: string): 'same' | 'cross' {
  if (text !== 'same' && text !== 'cross') {
    throw new Error(`bench: --placement must be same or cross, got ${JSON.stringify(text)}`);
  }
  return text;
}
