/**
 * Helpers for tests that run pipelines: fixture URLs, and process bookkeeping so that every
 * test ends with none of its processes alive.
 */
import { readdirSync, readFileSync } from 'node:fs';

import type { Pipeline, PipelineEvent } from '../src/index.js';

/** The URL of a stage module in `test/fixtures/stages/`. */
export function fixtureStage(name: string): URL {
  return new URL(`./fixtures/stages/${name}.ts`, import.meta.url);
}

/** True when `pid` runs (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose initial environment has `name=value`. */
export function processesWithEnv(name: string, value: string): number[] {
  const marker = `${name}=${value}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (isTranspilerService(entry)) continue;
      if (environ.split('\0').includes(marker) && isRunning(Number(entry))) {
        found.push(Number(entry));
      }
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

/**
 * tsx's esbuild service (`esbuild --service`): a helper of the TypeScript loader the tests run
 * under, started lazily by any tsx process and ended when its parent's pipe closes. It
 * carries the environment marker but is not a process rxipc started, so it is not counted.
 */
function isTranspilerService(pid: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0.endsWith('/esbuild');
  } catch {
    return false;
  }
}

/** Waits until `condition` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Records a pipeline's events and the pids it started. */
export class ProcessLog {
  readonly events: PipelineEvent[] = [];
  readonly pids = new Set<number>();

  watch<T>(p: Pipeline<T>): Pipeline<T> {
    p.events.subscribe((event) => {
      this.events.push(event);
      if (event.type === 'spawn' && event.pid !== undefined) this.pids.add(event.pid);
    });
    return p;
  }

  /** Pids still running. */
  running(): number[] {
    return [...this.pids].filter(isRunning);
  }

  /** Kills what still runs (a failed test) and waits until everything is gone. */
  async cleanUp(): Promise<void> {
    for (const pid of this.running()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await waitFor(() => this.running().length === 0, 5000, 'the stage processes to exit');
  }
}

/** Pids of this process's own children (all threads'), from /proc. */
export function childrenOfThisProcess(): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
    if (text !== '') children.push(...text.split(/\s+/).map(Number));
  }
  return children;
}
