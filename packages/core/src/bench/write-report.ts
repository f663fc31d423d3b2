import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { BenchReport } from './report.js';

/**
 * Where `rxipc bench` keeps its reports: `bench/results` in the workspace that contains
 * `cwd` (the nearest directory upwards with a `pnpm-workspace.yaml`), or under `cwd` itself.
 * The directory is git-ignored.
 *
 * @example
 * ```ts
 * await runBench({ json: defaultResultsDir() }); // bench/results/bench-<timestamp>.json
 * ```
 */
export function defaultResultsDir(cwd: string = process.cwd()): string {
  for (let dir = path.resolve(cwd); ;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml')))
      return path.join(dir, 'bench', 'results');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(cwd, 'bench', 'results');
    dir = parent;
  }
}

/**
 * Writes `report` as JSON (two-space indented) and returns the paths written. A `target`
 * ending in `.json` is the file; any other is a directory (created if missing) that gets
 * `bench-<timestamp>.json` and a copy as `latest.json`. Each file is written whole, then
 * renamed into place, so a reader never sees half a report.
 */
export async function writeReport(report: BenchReport, target: string): Promise<string[]> {
  const json = `${JSON.stringify({ ...report, files: [] }, null, 2)}\n`;
  const files = target.endsWith('.json')
    ? [path.resolve(target)]
    : [
        path.resolve(target, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`),
        path.resolve(target, 'latest.json'),
      ];
  for (const file of files) {
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, json);
    await rename(temporary, file);
  }
  return files;
}
