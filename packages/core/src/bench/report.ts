/**
 * The shape of a benchmark report: what `runBench` returns and what `rxipc bench` writes as
 * JSON. Rates count payload only (the 4-byte length prefix and JSON envelope are not bytes
 * of the message); `MB` is 10^6 bytes.
 */

/**
 * Where the two processes of a measurement run: `same` pins producer and consumer to one
 * vCPU, `cross` pins them to two different vCPUs. The scheduler's own choice flips between
 * the two, and on a 2-vCPU machine they differ by up to 30x, so every run is pinned.
 */
export type Placement = 'same' | 'cross';

/** The vCPUs a placement pins the producer and the consumer to (`taskset -c N`). */
export interface PlacementCpus {
  readonly producer: number;
  readonly consumer: number;
}

/** One run of one contender: what its consumer measured, from first message to end of stream. */
export interface RunSample {
  /** Messages the producer sent and the consumer counted (always equal: else the run failed). */
  readonly messages: number;
  /** Payload bytes the consumer counted. */
  readonly bytes: number;
  /** Seconds from the first message's arrival to end of stream, in the consumer. */
  readonly seconds: number;
  /** `messages / seconds`. */
  readonly messagesPerSecond: number;
}

/** A contender's result in one cell of the matrix: the median of its runs. */
export interface Measurement {
  /** The median of the runs' message rates. */
  readonly messagesPerSecond: number;
  /** Payload bytes per second at that rate (`messagesPerSecond * size`). */
  readonly bytesPerSecond: number;
  /** Every run, in the order measured (the calibration run is not among them). */
  readonly runs: readonly RunSample[];
}

/** One row of the table: rxipc on one mechanism, one message size, one placement. */
export interface BenchRow {
  /** The bench case (`'pipe'`). */
  readonly mechanism: string;
  /** Payload bytes per message. */
  readonly size: number;
  readonly placement: Placement;
  /** rxipc: a producer process `next()`ing into a channel, an RxJS subscriber in another. */
  readonly rxipc: Measurement;
  /** The same mechanism driven by the case's C program (`bench-c/<case>.c`), same run. */
  readonly c: Measurement;
  /**
   * rxipc's message rate divided by each baseline's, measured in the same run and placement:
   * `c` (the C program above), `net` (a raw Node `net` Unix socket, one `write()` per frame)
   * and `processSend` (Node's `child_process` IPC channel with JSON serialization).
   */
  readonly ratios: { readonly c: number; readonly net: number; readonly processSend: number };
}

/** A baseline that does not depend on the mechanism, measured once per size and placement. */
export interface BaselineRow {
  /** `'net'`: a Node `net` Unix socket; `'process.send'`: `child_process` IPC (json). */
  readonly name: BaselineName;
  readonly size: number;
  readonly placement: Placement;
  readonly measurement: Measurement;
}

/** The baselines every row is compared with, besides its mechanism's C program. */
export type BaselineName = 'net' | 'process.send';

/** The machine the report was measured on. */
export interface MachineInfo {
  readonly hostname: string;
  readonly platform: string;
  readonly arch: string;
  /** `uname -r`. */
  readonly kernel: string;
  /** `uname -v`. */
  readonly kernelVersion: string;
  /** Logical CPUs the system has, and their model. */
  readonly cpus: number;
  readonly cpuModel: string;
  /** The CPUs this process may run on (`Cpus_allowed_list`), from which placements are chosen. */
  readonly allowedCpus: readonly number[];
  readonly totalMemoryBytes: number;
  /** `process.version`. */
  readonly node: string;
  /** The first line of `cc --version`, or `null` when no C compiler was needed. */
  readonly cc: string | null;
}

/** Everything `runBench` measured, with the settings and the machine. */
export interface BenchReport {
  /** Bumped when this shape changes incompatibly. */
  readonly version: 1;
  /** Tags every process of the run (environment variable `RXIPC_BENCH_RUN`). */
  readonly runId: string;
  /** ISO 8601 time the run started, and how long it took. */
  readonly startedAt: string;
  readonly elapsedSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: {
    readonly mechanisms: readonly string[];
    readonly sizes: readonly number[];
    readonly placements: readonly Placement[];
    readonly cpus: Readonly<Partial<Record<Placement, PlacementCpus>>>;
    readonly runs: number;
    /** Target seconds per run (message counts are calibrated to it), or `null` with `messages`. */
    readonly targetSeconds: number | null;
    /** A fixed message count per run, or `null` when counts were calibrated. */
    readonly messages: number | null;
    readonly quick: boolean;
  };
  readonly rows: readonly BenchRow[];
  readonly baselines: readonly BaselineRow[];
  /** Placements asked for but not measured, with the reason (a 1-CPU machine has no `cross`). */
  readonly skipped: readonly { readonly placement: Placement; readonly reason: string }[];
  /** Where the JSON was written, if it was. */
  readonly files: readonly string[];
}
