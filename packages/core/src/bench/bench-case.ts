/**
 * The registry of mechanisms `rxipc bench` measures. Adding a mechanism is one module that
 * defines a {@link BenchCase} (how to make the kernel object and how each peer reaches it),
 * one C program in `packages/core/bench-c/`, and one `registerBenchCase` call in
 * `builtin-cases.ts`. The harness does the rest: pinning, calibration, baselines, the table.
 */

/** How one peer process reaches the mechanism under test. */
export interface PeerEndpoint {
  /** What the rxipc peer passes to `open()`: `'fd:3'`, later `'fifo:/tmp/x'`, `'mq:/x'`. */
  readonly uri: string;
  /**
   * Descriptors of the runner that the peer inherits as its fd 3, 4, ... in this order (the
   * runner's `spawn` stdio). Empty for mechanisms reached by name.
   */
  readonly fds?: readonly number[];
  /** The C program's arguments after `write|read COUNT SIZE` (`['3']`: the inherited fd). */
  readonly cArgs: readonly string[];
}

/** One instance of a mechanism, made for one measurement (one producer, one consumer). */
export interface BenchEndpoints {
  readonly producer: PeerEndpoint;
  readonly consumer: PeerEndpoint;
  /**
   * Called once both peers have started: the runner lets go of what they inherited. A pipe
   * must close the runner's copies of its ends here, or the reader never sees end of stream.
   */
  afterSpawn?(): void;
  /**
   * Called when the measurement is over, however it ended (also when a peer failed to start
   * and `afterSpawn` never ran). Releases and unlinks.
   */
  dispose(): void | Promise<void>;
}

/** A mechanism `rxipc bench` knows how to measure. */
export interface BenchCase {
  /** The row label and the `mechanisms` option's value (`'pipe'`). Lower case. */
  readonly name: string;
  /** One line: what the producer and consumer share. */
  readonly description: string;
  /** Message sizes the mechanism can carry; the others are skipped. Default: any. */
  readonly sizes?: readonly number[];
  /**
   * The C baseline: a file in `packages/core/bench-c/`, compiled with `cc -O2`, run as
   * `prog write COUNT SIZE ...cArgs` and `prog read COUNT SIZE ...cArgs`. The reader prints
   * `{"event":"ready"}` when it is about to read and
   * `{"event":"result","messages":N,"bytes":B,"seconds":S}` at end of stream.
   */
  readonly cProgram: string;
  /** Makes the kernel object for one measurement. Called in the runner, once per run. */
  open(): BenchEndpoints | Promise<BenchEndpoints>;
}

const cases = new Map<string, BenchCase>();

/**
 * Makes `benchCase` one of the mechanisms `runBench` measures (by default, all of them, in
 * the order registered).
 *
 * @example
 * ```ts
 * registerBenchCase({
 *   name: 'fifo',
 *   description: 'a named pipe (fifo(7)) opened by path',
 *   cProgram: 'fifo.c',
 *   open: () => makeFifoEndpoints(),
 * });
 * ```
 * @throws {TypeError} `ERR_RXIPC_BENCH_CASE_TAKEN` when a case of that name exists.
 */
export function registerBenchCase(benchCase: BenchCase): void {
  if (cases.has(benchCase.name)) {
    throw Object.assign(
      new TypeError(`a bench case named ${benchCase.name} is already registered`),
      {
        code: 'ERR_RXIPC_BENCH_CASE_TAKEN',
      },
    );
  }
  cases.set(benchCase.name, benchCase);
}

/** The registered bench cases, by name, in the order registered. */
export function benchCases(): ReadonlyMap<string, BenchCase> {
  return cases;
}
