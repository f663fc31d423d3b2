/**
 * The lock bench: what semaphores, file locks and robust mutexes cost through rxipc, next to
 * the same system calls made by a C program (`bench-c/locks.c`) in the same run.
 *
 * - Ping-pong latency: two processes, each pinned (`same` vCPU or `cross`), hand a count back
 *   and forth over two semaphores; the row is the time of one round trip. rxipc waits in a
 *   waiter thread and wakes the event loop, so each hop costs a thread wake-up and an event
 *   loop turn on top of the kernel's.
 * - Uncontended throughput: one process acquires and releases a free lock, over and over;
 *   rxipc through its reactive API (`acquire().subscribe()` then `unsubscribe()`).
 */
import { randomUUID } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

import './builtin-cases.js';
import { cCompiler, compileC } from './c-programs.js';
import { type LockBenchCase, type LockBenchSetup, lockBenchCases } from './lock-case.js';
import { allowedCpus, findTaskset, machineInfo } from './machine.js';
import { nodePeer, type Peer, type PeerCommand, startPeer } from './peer-process.js';
import type { MachineInfo, Placement } from './report.js';

/** Options for {@link runLockBench}. */
export interface LockBenchOptions {
  /** Cases to measure, by name (`['posix-sem']`). Default: every registered lock case. */
  readonly mechanisms?: readonly string[];
  /** Ping-pong placements. Default: `['same', 'cross']` (`cross` needs two CPUs). */
  readonly placements?: readonly Placement[];
  /** Runs per measurement; the report gives the median. Default: 3 (quick: 1). */
  readonly runs?: number;
  /** A smoke test: small counts, one run. */
  readonly quick?: boolean;
  /** Kills a run's processes and fails after this long. Default: 60 s. */
  readonly timeoutMs?: number;
  /** Called after every run, for a progress display. */
  readonly onProgress?: (progress: { done: number; total: number; what: string }) => void;
}

/** One ping-pong row: microseconds per round trip (lower is better). */
export interface PingPongRow {
  readonly mechanism: string;
  readonly placement: Placement;
  readonly rxipcMicros: number;
  readonly cMicros: number;
  /** `rxipcMicros / cMicros`: how many times a C round trip rxipc takes. */
  readonly ratio: number;
}

/** One uncontended row: acquire + release pairs per second (higher is better). */
export interface UncontendedRow {
  readonly mechanism: string;
  readonly rxipcOpsPerSecond: number;
  readonly cOpsPerSecond: number;
  /** `rxipcOpsPerSecond / cOpsPerSecond`. */
  readonly ratio: number;
}

/** What {@link runLockBench} measured. */
export interface LockBenchReport {
  readonly version: 1;
  readonly runId: string;
  readonly startedAt: string;
  readonly elapsedSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: {
    readonly mechanisms: readonly string[];
    readonly placements: Partial<Record<Placement, { a: number; b: number }>>;
    readonly runs: number;
    readonly quick: boolean;
  };
  readonly pingPong: readonly PingPongRow[];
  readonly uncontended: readonly UncontendedRow[];
}

/** A lock bench run that went wrong: a peer failed or time ran out. */
export class LockBenchError extends Error {
  override readonly name = 'LockBenchError';
  readonly code = 'ERR_RXIPC_BENCH';
}

// Round trips and acquisitions per run. C is far faster, so it does more of them, for a run
// long enough to time; the rates are per second either way.
const COUNTS = {
  pingPong: { rxipc: 3000, c: 20_000, warmup: 200 },
  uncontended: { rxipc: 20_000, c: 200_000, warmup: 1000 },
  // The mutex always locks in its waiter thread: a thread hop per acquisition.
  mutex: { rxipc: 3000, c: 200_000, warmup: 200 },
} as const;
const QUICK_DIVISOR = 10;

/**
 * Measures every lock case: ping-pong latency between two pinned processes (semaphores), and
 * uncontended acquire/release throughput in one pinned process, each for rxipc and for the C
 * program, interleaved, in the same run.
 *
 * @example
 * ```ts
 * console.log(formatLockTable(await runLockBench({ mechanisms: ['posix-sem'] })));
 * ```
 * @throws {LockBenchError} `ERR_RXIPC_BENCH` when a run fails, with the failing peer's stderr.
 * @throws {RangeError} for an unknown mechanism or placement.
 */
export async function runLockBench(options: LockBenchOptions = {}): Promise<LockBenchReport> {
  const started = Date.now();
  const quick = options.quick === true;
  const runs = options.runs ?? (quick ? 1 : 3);
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer`);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const cases = selectCases(options.mechanisms);
  const placements = [...new Set(options.placements ?? (['same', 'cross'] as const))];
  for (const p of placements) {
    if (p !== 'same' && p !== 'cross') throw new RangeError(`unknown placement ${String(p)}`);
  }
  if (process.platform !== 'linux') {
    throw new LockBenchError('the lock bench pins processes with taskset and runs on Linux only');
  }
  const [taskset, cpus, compiler] = await Promise.all([findTaskset(), allowedCpus(), cCompiler()]);
  const executable = await compileC('locks.c', compiler);
  const pins: Partial<Record<Placement, { a: number; b: number }>> = {};
  for (const placement of placements) {
    if (placement === 'same') pins.same = { a: cpus[0]!, b: cpus[0]! };
    else if (cpus.length >= 2) pins.cross = { a: cpus[0]!, b: cpus[1]! };
  }

  const runId = randomUUID();
  const env = { ...process.env, RXIPC_BENCH_RUN: runId };
  const scale = (n: number): number => (quick ? Math.max(50, Math.round(n / QUICK_DIVISOR)) : n);
  const pingCases = cases.filter((c) => c.pingPong !== undefined);
  const total = runs * (pingCases.length * Object.keys(pins).length * 2 + cases.length * 2);
  let done = 0;
  const progress = (what: string): void => options.onProgress?.({ done: ++done, total, what });

  const command = (
    contender: 'rxipc' | 'c',
    mech: string,
    mode: string,
    role: string,
    counts: { rxipc: number; c: number; warmup: number },
    setup: LockBenchSetup,
  ): PeerCommand => {
    const args = [
      mech,
      mode,
      role,
      String(scale(counts.warmup)),
      String(scale(counts[contender])),
      ...setup.args,
    ];
    return contender === 'rxipc'
      ? nodePeer('lock-peer', args, setup.fds ?? [])
      : { command: executable, args, fds: setup.fds ?? [] };
  };

  const pingPong: PingPongRow[] = [];
  for (const benchCase of pingCases) {
    for (const [placement, pin] of Object.entries(pins) as [
      Placement,
      { a: number; b: number },
    ][]) {
      const samples = { rxipc: [] as number[], c: [] as number[] };
      for (let run = 0; run < runs; run++) {
        for (const contender of ['rxipc', 'c'] as const) {
          const setup = await benchCase.pingPong!();
          const what = `${contender} ${benchCase.name} ping-pong ${placement}`;
          try {
            const counts = COUNTS.pingPong;
            const seconds = await measure(
              what,
              timeoutMs,
              async (start) => {
                const b = start(
                  'b',
                  command(contender, benchCase.name, 'pingpong', 'b', counts, setup),
                  pin.b,
                );
                await b.ready;
                const a = start(
                  'a',
                  command(contender, benchCase.name, 'pingpong', 'a', counts, setup),
                  pin.a,
                );
                const [result] = await Promise.all([a.done, b.done]);
                return result;
              },
              { taskset, env },
            );
            samples[contender].push((seconds / scale(counts[contender])) * 1e6);
          } finally {
            await setup.dispose();
          }
          progress(what);
        }
      }
      const rxipcMicros = median(samples.rxipc);
      const cMicros = median(samples.c);
      pingPong.push({
        mechanism: benchCase.name,
        placement,
        rxipcMicros,
        cMicros,
        ratio: rxipcMicros / cMicros,
      });
    }
  }

  const uncontended: UncontendedRow[] = [];
  for (const benchCase of cases) {
    const counts = benchCase.name === 'robust-mutex' ? COUNTS.mutex : COUNTS.uncontended;
    const samples = { rxipc: [] as number[], c: [] as number[] };
    for (let run = 0; run < runs; run++) {
      for (const contender of ['rxipc', 'c'] as const) {
        const setup = await benchCase.uncontended();
        const what = `${contender} ${benchCase.name} uncontended`;
        try {
          const seconds = await measure(
            what,
            timeoutMs,
            async (start) => {
              const solo = start(
                'solo',
                command(contender, benchCase.name, 'throughput', 'solo', counts, setup),
                cpus[0]!,
              );
              return solo.done;
            },
            { taskset, env },
          );
          samples[contender].push(scale(counts[contender]) / seconds);
        } finally {
          await setup.dispose();
        }
        progress(what);
      }
    }
    const rxipcOpsPerSecond = median(samples.rxipc);
    const cOpsPerSecond = median(samples.c);
    uncontended.push({
      mechanism: benchCase.name,
      rxipcOpsPerSecond,
      cOpsPerSecond,
      ratio: rxipcOpsPerSecond / cOpsPerSecond,
    });
  }

  return {
    version: 1,
    runId,
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    machine: machineInfo(cpus, compiler.version),
    settings: { mechanisms: cases.map((c) => c.name), placements: pins, runs, quick },
    pingPong,
    uncontended,
  };
}

/**
 * Renders a lock bench report for a terminal: ping-pong round trips in µs (rxipc, C, and how
 * many C round trips one rxipc round trip takes), then uncontended acquire/release pairs per
 * second (rxipc, C, and the ratio rxipc/C).
 */
export function formatLockTable(report: LockBenchReport): string {
  const pins = Object.entries(report.settings.placements)
    .map(([placement, pin]) => `${placement} = cpus ${pin.a} and ${pin.b}`)
    .join('; ');
  const lines = [
    `rxipc lock bench: ${report.machine.cpus} x ${report.machine.cpuModel}, Node ${report.machine.node}; ${pins}; median of ${report.settings.runs} run(s)${report.settings.quick ? ', quick' : ''}`,
    '',
    'ping-pong between two processes (one round trip):',
    ...table(
      ['mechanism', 'placement', 'rxipc µs', 'C µs', 'rxipc / C'],
      report.pingPong.map((row) => [
        row.mechanism,
        row.placement,
        row.rxipcMicros.toFixed(1),
        row.cMicros.toFixed(1),
        `${row.ratio.toFixed(1)}x`,
      ]),
    ),
    '',
    'uncontended acquire + release, one process:',
    ...table(
      ['mechanism', 'rxipc ops/s', 'C ops/s', 'rxipc / C'],
      report.uncontended.map((row) => [
        row.mechanism,
        rate(row.rxipcOpsPerSecond),
        rate(row.cOpsPerSecond),
        row.ratio.toFixed(3),
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes the report as `locks-<timestamp>.json` and `locks-latest.json` in `dir`. */
export async function writeLockReport(report: LockBenchReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const files = [path.join(dir, `locks-${stamp}.json`), path.join(dir, 'locks-latest.json')];
  for (const file of files) await writeFile(file, text);
  return files;
}

/** Runs `body` (which starts pinned peers) with a deadline; kills every peer afterwards. */
async function measure(
  what: string,
  timeoutMs: number,
  body: (
    start: (role: string, command: PeerCommand, cpu: number) => Peer,
  ) => Promise<{ seconds: number } | undefined>,
  context: { taskset: string; env: NodeJS.ProcessEnv },
): Promise<number> {
  const peers: Peer[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LockBenchError(`${what}: no result after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    const result = await Promise.race([
      body((role, command, cpu) => {
        const peer = startPeer(`${what}: ${role}`, command, cpu, context.taskset, context.env);
        peers.push(peer);
        return peer;
      }),
      timeout,
    ]);
    if (result === undefined || !(result.seconds > 0)) {
      throw new LockBenchError(`${what}: the peer printed no usable result`);
    }
    return result.seconds;
  } catch (error) {
    if (error instanceof LockBenchError) throw error;
    throw new LockBenchError(`${what}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
    for (const peer of peers) peer.kill();
    await Promise.allSettled(peers.map((peer) => peer.done));
  }
}

function selectCases(names: readonly string[] | undefined): LockBenchCase[] {
  const registered = lockBenchCases();
  if (names === undefined) return [...registered.values()];
  return names.map((name) => {
    const found = registered.get(name);
    if (found === undefined) {
      throw new RangeError(
        `no lock bench case named ${JSON.stringify(name)} (known: ${[...registered.keys()].join(', ')})`,
      );
    }
    return found;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}
