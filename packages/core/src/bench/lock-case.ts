/**
 * The registry of what the lock bench measures (see run-lock-bench.ts): semaphores, file
 * locks and robust mutexes, which carry no data, so they get their own two measurements
 * instead of the throughput matrix: round-trip latency between two processes (ping-pong, for
 * the mechanisms that can signal) and uncontended acquire/release throughput in one process.
 * Adding one is a module in `cases/` and a `registerLockBenchCase` call in
 * `builtin-cases.ts`; its C side is a mode of `bench-c/locks.c`.
 */

/** The kernel objects of one measurement, and how the peers reach them. */
export interface LockBenchSetup {
  /**
   * The peers' arguments after `MECH MODE ROLE WARMUP COUNT`, the same for the rxipc peer and
   * the C program (names, a set id, a path, or `3` for an inherited descriptor).
   */
  readonly args: readonly string[];
  /** Runner descriptors the peers inherit as fd 3, 4, ... (a memfd segment). */
  readonly fds?: readonly number[];
  /** Removes the objects (called however the measurement ended). */
  dispose(): void | Promise<void>;
}

/** A lock mechanism the lock bench knows how to measure. */
export interface LockBenchCase {
  /** The row label and `MECH` argument (`'posix-sem'`). */
  readonly name: string;
  /** One line: what is measured. */
  readonly description: string;
  /**
   * Two semaphores (initially 0) for round trips: peer a posts one and waits on the other,
   * peer b the reverse. Absent for mechanisms that cannot signal (file locks, mutexes).
   */
  pingPong?(): LockBenchSetup | Promise<LockBenchSetup>;
  /** One lock, free, for uncontended acquire/release in one process. */
  uncontended(): LockBenchSetup | Promise<LockBenchSetup>;
}

const cases = new Map<string, LockBenchCase>();

/**
 * Makes `benchCase` one of the mechanisms the lock bench measures.
 *
 * @example
 * ```ts
 * registerLockBenchCase({ name: 'flock', description: 'flock(2) on a file', uncontended: () => ... });
 * ```
 * @throws {TypeError} `ERR_RXIPC_BENCH_CASE_TAKEN` when a case of that name exists.
 */
export function registerLockBenchCase(benchCase: LockBenchCase): void {
  if (cases.has(benchCase.name)) {
    throw Object.assign(
      new TypeError(`a lock bench case named ${benchCase.name} is already registered`),
      { code: 'ERR_RXIPC_BENCH_CASE_TAKEN' },
    );
  }
  cases.set(benchCase.name, benchCase);
}

/** The registered lock bench cases, by name, in the order registered. */
export function lockBenchCases(): ReadonlyMap<string, LockBenchCase> {
  return cases;
}
