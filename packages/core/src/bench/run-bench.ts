import { randomUUID } from 'node:crypto';

import './builtin-cases.js';
import { type BenchCase, benchCases } from './bench-case.js';
import { cCompiler, compileC } from './c-programs.js';
import {
  cContender,
  type Contender,
  netContender,
  type RunSetup,
  processSendContender,
  rxipcContender,
} from './contenders.js';
import { allowedCpus, findTaskset, machineInfo } from './machine.js';
import { type Peer, type PeerCommand, startPeer } from './peer-process.js';
import type {
  BaselineRow,
  BenchReport,
  BenchRow,
  Measurement,
  Placement,
  PlacementCpus,
  RunSample,
} from './report.js';
import { writeReport } from './write-report.js';

/** The message sizes measured by default: 64 B, 1 KiB, 64 KiB. */
export const DEFAULT_SIZES: readonly number[] = [64, 1024, 64 * 1024];

/** Options for {@link runBench}. */
export interface BenchOptions {
  /** Bench cases to measure, by name (`['pipe']`). Default: every registered case. */
  readonly mechanisms?: readonly string[];
  /** Payload bytes per message. Default: {@link DEFAULT_SIZES}. */
  readonly sizes?: readonly number[];
  /** Default: `['same', 'cross']` (`cross` is skipped, and says so, on a 1-CPU machine). */
  readonly placements?: readonly Placement[];
  /**
   * Target duration of one run, in milliseconds: a calibration run per contender and cell
   * measures its rate, and the message count of the real runs is set from it. Default: 750.
   */
  readonly durationMs?: number;
  /** A fixed message count for every run instead (no calibration). */
  readonly messages?: number;
  /** Runs per contender and cell; the report gives the median. Default: 3 (quick: 1). */
  readonly runs?: number;
  /**
   * Where to write the report as JSON: a directory gets `bench-<timestamp>.json` and
   * `latest.json` (see `defaultResultsDir`), a path ending in `.json` is that file. Default:
   * nothing is written.
   */
  readonly json?: string;
  /** A smoke test: about 1 MiB of messages per run, one run, no calibration. */
  readonly quick?: boolean;
  /** Kills a run's processes and fails the bench after this long. Default: 60 s. */
  readonly timeoutMs?: number;
  /** Called after every run (calibration runs too), for a progress display. */
  readonly onProgress?: (progress: BenchProgress) => void;
}

/** One finished run, as reported to `onProgress`. */
export interface BenchProgress {
  /** Runs finished so far, and in all. */
  readonly done: number;
  readonly total: number;
  /** `'rxipc pipe'`, `'C pipe'`, `'net'` or `'process.send'`. */
  readonly contender: string;
  readonly size: number;
  readonly placement: Placement;
  /** `'calibrate'` for the run that sets the message count, which is not reported. */
  readonly phase: 'calibrate' | 'run';
  readonly sample: RunSample;
}

/** A run that went wrong: a peer failed, messages went missing, or time ran out. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
  readonly code = 'ERR_RXIPC_BENCH';
  /** The run's id (`RXIPC_BENCH_RUN` of its processes), once the run had started. */
  readonly runId: string | undefined;

  constructor(message: string, options: { cause?: unknown; runId?: string } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : {});
    this.runId = options.runId;
  }
}

const QUICK_BYTES = 1 << 20;
const MIN_MESSAGES = 50;
const CALIBRATION_SECONDS = 0.1;

/**
 * Measures one-way throughput of each mechanism against its baselines and returns the report.
 *
 * For every placement, message size and contender it starts a consumer process and a
 * producer process, each pinned to its vCPU with `taskset`, and the producer sends a fixed
 * number of messages as fast as the receiver takes them (with backpressure: nothing is
 * dropped, and a consumer that counts any other number fails the bench). The consumer times
 * the first message to end of stream. The contenders of one cell run interleaved, once to
 * calibrate the message count to `durationMs` and then `runs` times; a row is the median.
 * Contenders: rxipc (a `Channel` producer, an RxJS subscriber consumer), the mechanism's C
 * program (compiled here with `cc -O2`), a raw Node `net` Unix socket, and `process.send`.
 *
 * Every process the bench starts carries `RXIPC_BENCH_RUN=<runId>` in its environment and
 * has exited when the promise settles.
 *
 * @example
 * ```ts
 * const report = await runBench({ mechanisms: ['pipe'], json: defaultResultsDir() });
 * console.log(formatTable(report));
 * ```
 * @throws {BenchError} `ERR_RXIPC_BENCH` when a run fails, with the failing peer's stderr.
 * @throws {RangeError} for an unknown mechanism or placement, or a bad size or count.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const started = Date.now();
  const quick = options.quick === true;
  const cases = selectCases(options.mechanisms);
  const sizes = checkSizes(options.sizes ?? DEFAULT_SIZES);
  const placements = checkPlacements(options.placements ?? ['same', 'cross']);
  const runs = positiveInteger(options.runs ?? (quick ? 1 : 3), 'runs');
  const fixedCount =
    options.messages === undefined ? undefined : positiveInteger(options.messages, 'messages');
  const targetSeconds = positiveNumber(options.durationMs ?? 750, 'durationMs') / 1000;
  const timeoutMs = positiveNumber(options.timeoutMs ?? 60_000, 'timeoutMs');
  const calibrate = !quick && fixedCount === undefined;

  if (process.platform !== 'linux') {
    throw new BenchError('the bench pins processes with taskset and runs on Linux only');
  }
  const [taskset, cpus, compiler] = await Promise.all([findTaskset(), allowedCpus(), cCompiler()]);
  const executables = new Map<BenchCase, string>();
  for (const benchCase of cases) {
    executables.set(benchCase, await compileC(benchCase.cProgram, compiler));
  }

  const placementCpus: Partial<Record<Placement, PlacementCpus>> = {};
  const skipped: { placement: Placement; reason: string }[] = [];
  for (const placement of placements) {
    if (placement === 'same') placementCpus.same = { producer: cpus[0]!, consumer: cpus[0]! };
    else if (cpus.length >= 2) placementCpus.cross = { producer: cpus[0]!, consumer: cpus[1]! };
    else skipped.push({ placement, reason: `only one CPU is available (${cpus.join(',')})` });
  }

  const runId = randomUUID();
  const env = { ...process.env, RXIPC_BENCH_RUN: runId };
  const net = netContender();
  const processSend = processSendContender(taskset);
  const cells = Object.entries(placementCpus).flatMap(([placement, pinned]) =>
    sizes.map((size) => ({
      placement: placement as Placement,
      cpus: pinned,
      size,
      contenders: [
        ...cases
          .filter((c) => c.sizes === undefined || c.sizes.includes(size))
          .flatMap((c) => [rxipcContender(c), cContender(c, executables.get(c)!)]),
        net,
        processSend,
      ],
    })),
  );
  const total = cells.reduce(
    (sum, cell) => sum + cell.contenders.length * (runs + (calibrate ? 1 : 0)),
    0,
  );
  let done = 0;

  const rows: BenchRow[] = [];
  const baselines: BaselineRow[] = [];
  for (const { placement, cpus: pinned, size, contenders } of cells) {
    const measure = async (contender: Contender, count: number, phase: BenchProgress['phase']) => {
      const context = { taskset, env, timeoutMs, placement, runId };
      const sample = await measureRun(contender, count, size, pinned, context);
      options.onProgress?.({
        done: ++done,
        total,
        contender: contender.label,
        size,
        placement,
        phase,
        sample,
      });
      return sample;
    };

    const counts = new Map<Contender, number>();
    for (const contender of contenders) {
      if (quick) {
        counts.set(contender, clamp(Math.floor(QUICK_BYTES / (size + 4)), MIN_MESSAGES, 20_000));
      } else if (fixedCount !== undefined) {
        counts.set(contender, fixedCount);
      } else {
        // The calibration run is cold (JIT, caches), so it tends to underestimate the rate and
        // the real runs come out somewhat shorter than the target; that is fine.
        const probe = Math.max(
          MIN_MESSAGES,
          Math.round(contender.guess(size) * CALIBRATION_SECONDS),
        );
        const sample = await measure(contender, probe, 'calibrate');
        counts.set(
          contender,
          clamp(Math.round(sample.messagesPerSecond * targetSeconds), MIN_MESSAGES, probe * 50),
        );
      }
    }

    // Interleaved, so that a drift in the machine's speed touches every contender alike.
    const samples = new Map<Contender, RunSample[]>(contenders.map((c) => [c, []]));
    for (let run = 0; run < runs; run++) {
      for (const contender of contenders) {
        samples.get(contender)!.push(await measure(contender, counts.get(contender)!, 'run'));
      }
    }

    const result = (contender: Contender): Measurement => summarize(samples.get(contender)!, size);
    const netResult = result(net);
    const sendResult = result(processSend);
    baselines.push(
      { name: 'net', size, placement, measurement: netResult },
      { name: 'process.send', size, placement, measurement: sendResult },
    );
    for (const contender of contenders) {
      if (contender.kind !== 'rxipc') continue;
      const rxipc = result(contender);
      const c = result(
        contenders.find((o) => o.kind === 'c' && o.mechanism === contender.mechanism)!,
      );
      rows.push({
        mechanism: contender.mechanism!,
        size,
        placement,
        rxipc,
        c,
        ratios: {
          c: rxipc.messagesPerSecond / c.messagesPerSecond,
          net: rxipc.messagesPerSecond / netResult.messagesPerSecond,
          processSend: rxipc.messagesPerSecond / sendResult.messagesPerSecond,
        },
      });
    }
  }

  const report: BenchReport = {
    version: 1,
    runId,
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    machine: machineInfo(cpus, compiler.version),
    settings: {
      mechanisms: cases.map((c) => c.name),
      sizes,
      placements,
      cpus: placementCpus,
      runs,
      targetSeconds: calibrate ? targetSeconds : null,
      messages: fixedCount ?? null,
      quick,
    },
    rows,
    baselines,
    skipped,
    files: [],
  };
  if (options.json === undefined) return report;
  const files = await writeReport(report, options.json);
  return { ...report, files };
}

/**
 * One run: starts the consumer, waits until it is ready, starts the producer, lets the
 * runner's copies of the endpoints go, and waits for both to exit. Any failure kills both.
 */
async function measureRun(
  contender: Contender,
  count: number,
  size: number,
  cpus: PlacementCpus,
  context: {
    taskset: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    placement: Placement;
    runId: string;
  },
): Promise<RunSample> {
  const what = `${contender.label}, ${size} B, ${context.placement}, ${count} messages`;
  const { runId } = context;
  const peers: Peer[] = [];
  let setup: RunSetup | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    setup = await contender.prepare(count, size, cpus);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new BenchError(`${what}: no result after ${context.timeoutMs / 1000} s`, { runId }));
      }, context.timeoutMs);
    });
    const start = (role: string, command: PeerCommand, cpu: number): Peer => {
      const peer = startPeer(`${what}: the ${role}`, command, cpu, context.taskset, context.env);
      peers.push(peer);
      return peer;
    };
    const consumer = start('consumer', setup.consumer, cpus.consumer);
    await Promise.race([consumer.ready, timeout]);
    if (setup.producer !== undefined) start('producer', setup.producer, cpus.producer);
    setup.afterSpawn?.();
    const [result] = await Promise.race([Promise.all(peers.map((peer) => peer.done)), timeout]);
    if (result === undefined)
      throw new BenchError(`${what}: the consumer printed no result`, { runId });
    if (result.messages !== count || result.bytes !== count * size) {
      throw new BenchError(
        `${what}: the consumer counted ${result.messages} messages and ${result.bytes} bytes, expected ${count} and ${count * size}`,
        { runId },
      );
    }
    if (!(result.seconds > 0)) {
      throw new BenchError(
        `${what}: every message arrived at once; the run is too short to time (use more messages)`,
        {
          runId,
        },
      );
    }
    return {
      messages: result.messages,
      bytes: result.bytes,
      seconds: result.seconds,
      messagesPerSecond: result.messages / result.seconds,
    };
  } catch (error) {
    if (error instanceof BenchError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new BenchError(message.startsWith(what) ? message : `${what}: ${message}`, {
      cause: error,
      runId,
    });
  } finally {
    clearTimeout(timer);
    for (const peer of peers) peer.kill();
    await Promise.allSettled(peers.map((peer) => peer.done));
    await setup?.dispose();
  }
}

function summarize(samples: readonly RunSample[], size: number): Measurement {
  const rates = samples.map((s) => s.messagesPerSecond).sort((a, b) => a - b);
  const middle = rates.length >> 1;
  const median =
    rates.length % 2 === 1 ? rates[middle]! : (rates[middle - 1]! + rates[middle]!) / 2;
  return { messagesPerSecond: median, bytesPerSecond: median * size, runs: samples };
}

function selectCases(names: readonly string[] | undefined): BenchCase[] {
  const registered = benchCases();
  if (names === undefined) return [...registered.values()];
  return names.map((name) => {
    const benchCase = registered.get(name);
    if (benchCase === undefined) {
      throw new RangeError(
        `no bench case named ${JSON.stringify(name)} (known: ${[...registered.keys()].join(', ')})`,
      );
    }
    return benchCase;
  });
}

function checkSizes(sizes: readonly number[]): number[] {
  if (sizes.length === 0) throw new RangeError('sizes is empty');
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 0 || size > 16 * 1024 * 1024) {
      throw new RangeError(`a message size is an integer from 0 to 16 MiB, got ${String(size)}`);
    }
  }
  return [...sizes];
}

function checkPlacements(placements: readonly Placement[]): Placement[] {
  for (const placement of placements) {
    if (placement !== 'same' && placement !== 'cross') {
      throw new RangeError(`a placement is 'same' or 'cross', got ${JSON.stringify(placement)}`);
    }
  }
  return [...new Set(placements)];
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function positiveNumber(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
