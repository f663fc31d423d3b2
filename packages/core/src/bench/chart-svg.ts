import type { BenchReport, Measurement, Placement } from './report.js';

/** One bar of the chart. */
interface Bar {
  readonly series: string;
  readonly size: number;
  readonly measurement: Measurement;
}

/** A series: rxipc on a mechanism, its C program, or a Node baseline. */
interface Series {
  readonly name: string;
  readonly fill: string;
  readonly opacity: number;
  readonly hatch: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];
const BASELINES = [
  { name: 'net', label: 'Node net Unix socket', fill: '#555555' },
  { name: 'process.send', label: 'Node process.send (json)', fill: '#aaaaaa' },
] as const;

const WIDTH = 960;
const LEFT = 78;
const RIGHT = 24;
const PANEL_HEIGHT = 290;
const PANEL_GAP = 70;

/**
 * Renders a benchmark report as an SVG chart, with no dependency: throughput in MB/s (log
 * scale) per message size, one panel per placement (`same` and `cross` vCPU). For every size,
 * each mechanism has two bars side by side, rxipc (solid) and the same mechanism driven by C
 * (hatched, same colour), followed by the two Node baselines of that size (a raw `net` Unix
 * socket and `process.send`), all measured in the same run. Each bar is labelled with its
 * message rate and carries a tooltip with the exact numbers. A size a mechanism cannot carry
 * leaves a gap.
 *
 * @example
 * ```ts
 * await writeFile('bench/results/latest.svg', renderBenchChart(report));
 * ```
 */
export function renderBenchChart(report: BenchReport): string {
  const mechanisms = report.settings.mechanisms.filter((m) =>
    report.rows.some((row) => row.mechanism === m),
  );
  const series: Series[] = mechanisms.flatMap((mechanism, i) => {
    const fill = PALETTE[i % PALETTE.length]!;
    return [
      { name: `rxipc ${mechanism}`, fill, opacity: 1, hatch: false },
      { name: `C ${mechanism}`, fill, opacity: 0.55, hatch: true },
    ];
  });
  series.push(...BASELINES.map((b) => ({ name: b.name, fill: b.fill, opacity: 1, hatch: false })));
  const placements = (['same', 'cross'] as const).filter(
    (p) =>
      report.rows.some((row) => row.placement === p) ||
      report.baselines.some((b) => b.placement === p),
  );
  const sizes = [...report.settings.sizes].sort((a, b) => a - b);

  const barsOf = (placement: Placement): Bar[] => [
    ...report.rows
      .filter((row) => row.placement === placement)
      .flatMap((row) => [
        { series: `rxipc ${row.mechanism}`, size: row.size, measurement: row.rxipc },
        { series: `C ${row.mechanism}`, size: row.size, measurement: row.c },
      ]),
    ...report.baselines
      .filter((b) => b.placement === placement)
      .map((b) => ({ series: b.name, size: b.size, measurement: b.measurement })),
  ];
  const all = placements.flatMap(barsOf).map((bar) => megabytes(bar.measurement));
  const positive = all.filter((v) => v > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...positive, 10)));

  const legendItems = legend(series, mechanisms);
  const top = 64 + legendItems.rows * 18 + 30;
  const height = top + placements.length * (PANEL_HEIGHT + PANEL_GAP) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    '<defs>',
    ...series
      .filter((s) => s.hatch)
      .map(
        (s) =>
          `<pattern id="${hatchId(s)}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="${s.fill}" fill-opacity="0.35"/><line x1="0" y1="0" x2="0" y2="6" stroke="${s.fill}" stroke-width="3"/></pattern>`,
      ),
    '</defs>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="28" font-size="18" font-weight="bold">rxipc bench: one-way throughput, MB/s (log scale)</text>`,
    `<text x="${LEFT}" y="48" fill="#444">${escape(
      `${report.machine.cpus} x ${report.machine.cpuModel}, Linux ${report.machine.kernel}, Node ${report.machine.node}; median of ${report.settings.runs} run(s)${report.settings.quick ? ', quick (a smoke test, not a measurement)' : ''}; ${report.startedAt}`,
    )}</text>`,
    ...legendItems.svg,
  ];

  placements.forEach((placement, index) => {
    const panelTop = top + index * (PANEL_HEIGHT + PANEL_GAP) + 20;
    const cpus = report.settings.cpus[placement];
    const title =
      placement === 'same'
        ? `same vCPU${cpus !== undefined ? ` (both on cpu ${cpus.producer})` : ''}`
        : `cross vCPUs${cpus !== undefined ? ` (producer on cpu ${cpus.producer}, consumer on cpu ${cpus.consumer})` : ''}`;
    out.push(...panel(barsOf(placement), series, sizes, panelTop, low, high, title));
  });
  out.push(
    `<text x="${LEFT}" y="${height - 14}" fill="#666" font-size="11">Solid: rxipc; hatched: the same mechanism driven by a C program; grey: Node's own IPC. Labels: messages per second. MB = 10^6 bytes of payload.</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

function panel(
  bars: readonly Bar[],
  series: readonly Series[],
  sizes: readonly number[],
  top: number,
  low: number,
  high: number,
  title: string,
): string[] {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const bottom = top + PANEL_HEIGHT;
  const y = (mb: number): number =>
    bottom -
    ((Math.log10(Math.max(mb, low)) - Math.log10(low)) / Math.log10(high / low)) * PANEL_HEIGHT;
  const out: string[] = [
    `<text x="${LEFT}" y="${top - 8}" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let tick = low; tick <= high * 1.0001; tick *= 10) {
    const ty = y(tick).toFixed(1);
    out.push(
      `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${ty}" y2="${ty}" stroke="#e3e3e3"/>`,
      `<text x="${LEFT - 8}" y="${ty}" dy="4" text-anchor="end" fill="#444">${number(tick)}</text>`,
    );
  }
  out.push(
    `<line x1="${LEFT}" x2="${LEFT}" y1="${top}" y2="${bottom}" stroke="#888"/>`,
    `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`,
    `<text transform="translate(${LEFT - 58} ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#444">MB/s</text>`,
  );
  const groupWidth = plotWidth / Math.max(sizes.length, 1);
  const barWidth = Math.min(26, (groupWidth * 0.84) / Math.max(series.length, 1));
  sizes.forEach((size, g) => {
    const groupLeft = LEFT + g * groupWidth + (groupWidth - barWidth * series.length) / 2;
    out.push(
      `<text x="${(LEFT + (g + 0.5) * groupWidth).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" font-weight="bold">${escape(bytes(size))}</text>`,
    );
    series.forEach((s, i) => {
      const bar = bars.find((b) => b.series === s.name && b.size === size);
      if (bar === undefined) return;
      const mb = megabytes(bar.measurement);
      const x = groupLeft + i * barWidth;
      const barTop = y(mb);
      const fill = s.hatch ? `url(#${hatchId(s)})` : s.fill;
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(bottom - barTop).toFixed(1)}" fill="${fill}" fill-opacity="${s.hatch ? 1 : s.opacity}" stroke="${s.fill}" stroke-width="0.8"><title>${escape(
          `${s.name}, ${bytes(size)}: ${rate(bar.measurement.messagesPerSecond)} msgs/s, ${number(mb)} MB/s`,
        )}</title></rect>`,
        `<text transform="translate(${(x + barWidth / 2 + 3).toFixed(1)} ${(barTop - 4).toFixed(1)}) rotate(-90)" font-size="9" fill="#333">${escape(rate(bar.measurement.messagesPerSecond))}</text>`,
      );
    });
  });
  return out;
}

function legend(
  series: readonly Series[],
  mechanisms: readonly string[],
): { svg: string[]; rows: number } {
  const items: { label: string; fill: string; hatch?: Series }[] = [];
  mechanisms.forEach((mechanism, i) => {
    items.push({ label: `rxipc ${mechanism}`, fill: series[2 * i]!.fill });
    items.push({
      label: `C ${mechanism}`,
      fill: series[2 * i + 1]!.fill,
      hatch: series[2 * i + 1]!,
    });
  });
  for (const b of BASELINES) items.push({ label: b.label, fill: b.fill });
  const out: string[] = [];
  let x = LEFT;
  let row = 0;
  for (const item of items) {
    const width = 22 + item.label.length * 7 + 18;
    if (x + width > WIDTH - RIGHT) {
      x = LEFT;
      row++;
    }
    const y = 64 + row * 18;
    const fill = item.hatch !== undefined ? `url(#${hatchId(item.hatch)})` : item.fill;
    out.push(
      `<rect x="${x}" y="${y}" width="14" height="12" fill="${fill}" stroke="${item.fill}" stroke-width="0.8"/>`,
      `<text x="${x + 20}" y="${y + 10}">${escape(item.label)}</text>`,
    );
    x += width;
  }
  return { svg: out, rows: row + 1 };
}

function megabytes(measurement: Measurement): number {
  return measurement.bytesPerSecond / 1e6;
}

function hatchId(series: Series): string {
  return `hatch-${series.name.replace(/[^a-z0-9]+/gi, '-')}`;
}

/** 2 850 000 → `2.85M`. */
function rate(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toPrecision(3)}G`;
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

function number(value: number): string {
  if (value >= 1000) return value.toFixed(0);
  if (value >= 1) return String(Number(value.toPrecision(3)));
  return String(Number(value.toPrecision(2)));
}

function bytes(size: number): string {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`;
  return `${size} B`;
}

function escape(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
