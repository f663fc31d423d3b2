import { readFile, rename, writeFile } from 'node:fs/promises';

import { renderBenchChart } from './chart-svg.js';
import type { BenchReport } from './report.js';

/**
 * Writes the SVG chart of `report` (see `renderBenchChart`) next to each JSON file the report
 * was written to (`latest.json` gets `latest.svg`), or next to `jsonFile` when given. Each file
 * is written whole, then renamed into place. Returns the paths written.
 *
 * @example
 * ```ts
 * const report = await runBench({ json: defaultResultsDir() });
 * console.log(await writeBenchCharts(report)); // [.../bench-<time>.svg, .../latest.svg]
 * ```
 */
export async function writeBenchCharts(
  report: BenchReport,
  jsonFiles: readonly string[] = report.files,
): Promise<string[]> {
  const svg = renderBenchChart(report);
  const written: string[] = [];
  for (const json of jsonFiles) {
    const file = json.replace(/\.json$/, '') + '.svg';
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, svg);
    await rename(temporary, file);
    written.push(file);
  }
  return written;
}

/**
 * Reads a report that `rxipc bench` wrote.
 *
 * @throws {Error} `ERR_RXIPC_BENCH_REPORT` when the file is not a version-1 bench report.
 */
export async function readBenchReport(file: string): Promise<BenchReport> {
  const report = JSON.parse(await readFile(file, 'utf8')) as Partial<BenchReport>;
  if (report.version !== 1 || !Array.isArray(report.rows) || !Array.isArray(report.baselines)) {
    throw Object.assign(new Error(`${file} is not an rxipc bench report (version 1)`), {
      code: 'ERR_RXIPC_BENCH_REPORT',
    });
  }
  return report as BenchReport;
}
