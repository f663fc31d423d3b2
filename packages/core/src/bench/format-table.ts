import type { BenchReport, Measurement } from './report.js';

/**
 * Renders a report as plain text for a terminal: a line about the machine and the pinning,
 * the table of rxipc rows (mechanism, size, placement, msgs/s, MB/s, and the ratios to the
 * C program, to a raw `net` socket and to `process.send`), then the baselines' own rates.
 * Ratios above 1 mean rxipc delivered more messages per second. `MB` is 10^6 bytes.
 *
 * @example
 * ```ts
 * console.log(formatTable(await runBench({ quick: true })));
 * ```
 */
export function formatTable(report: BenchReport): string {
  const { machine, settings } = report;
  const pins = Object.entries(settings.cpus)
    .map(
      ([placement, cpus]) =>
        `${placement} = producer on cpu ${cpus.producer}, consumer on cpu ${cpus.consumer}`,
    )
    .join('; ');
  const counts =
    settings.messages !== null
      ? `${settings.messages} messages per run`
      : settings.targetSeconds !== null
        ? `~${settings.targetSeconds} s per run`
        : 'quick';
  const lines = [
    `rxipc bench: ${machine.cpus} x ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}`,
    `pinned with taskset: ${pins}; median of ${settings.runs} run(s), ${counts}`,
    '',
    ...table(
      ['mechanism', 'size', 'placement', 'msgs/s', 'MB/s', 'vs C', 'vs net', 'vs process.send'],
      report.rows.map((row) => [
        row.mechanism,
        bytes(row.size),
        row.placement,
        ...rates(row.rxipc),
        ratio(row.ratios.c),
        ratio(row.ratios.net),
        ratio(row.ratios.processSend),
      ]),
    ),
    '',
    'baselines (same run):',
    ...table(
      ['baseline', 'size', 'placement', 'msgs/s', 'MB/s'],
      [
        ...report.rows.map((row) => [
          `C ${row.mechanism}`,
          bytes(row.size),
          row.placement,
          ...rates(row.c),
        ]),
        ...report.baselines.map((b) => [
          b.name,
          bytes(b.size),
          b.placement,
          ...rates(b.measurement),
        ]),
      ].sort((a, b) => order(a, b)),
    ),
  ];
  for (const { placement, reason } of report.skipped) lines.push(`skipped ${placement}: ${reason}`);
  for (const file of report.files) lines.push(`wrote ${file}`);
  return `${lines.join('\n')}\n`;
}

/** Columns padded to width; the first three left-aligned, numbers right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function rates(measurement: Measurement): [string, string] {
  return [count(measurement.messagesPerSecond), megabytes(measurement.bytesPerSecond)];
}

/** 2 850 000 → `2.85 M`; three significant digits. */
function count(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
  return value.toPrecision(3);
}

function megabytes(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6;
  return mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2);
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}x` : 'n/a';
}

function bytes(size: number): string {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`;
  return `${size} B`;
}

/** Baseline rows by placement (as measured), then size, then name. */
function order(a: readonly string[], b: readonly string[]): number {
  return (
    (a[2] === b[2] ? 0 : a[2] === 'same' ? -1 : 1) ||
    parseBytes(a[1]!) - parseBytes(b[1]!) ||
    a[0]!.localeCompare(b[0]!)
  );
}

function parseBytes(text: string): number {
  const [value, unit] = text.split(' ');
  return Number(value) * (unit === 'MiB' ? 1024 * 1024 : unit === 'KiB' ? 1024 : 1);
}
