/**
 * `rxipc bench`: one-way throughput of each IPC mechanism through rxipc, next to the same
 * mechanism driven by a C program and to Node's own IPC (a raw `net` Unix socket and
 * `process.send`), all measured in the same run with pinned processes.
 */
export {
  benchCases,
  registerBenchCase,
  type BenchCase,
  type BenchEndpoints,
  type PeerEndpoint,
} from './bench-case.js';
export { formatTable } from './format-table.js';
export type {
  BaselineName,
  BaselineRow,
  BenchReport,
  BenchRow,
  MachineInfo,
  Measurement,
  Placement,
  PlacementCpus,
  RunSample,
} from './report.js';
export {
  BenchError,
  DEFAULT_SIZES,
  runBench,
  type BenchOptions,
  type BenchProgress,
} from './run-bench.js';
export { defaultResultsDir, writeReport } from './write-report.js';
export {
  lockBenchCases,
  registerLockBenchCase,
  type LockBenchCase,
  type LockBenchSetup,
} from './lock-case.js';
export {
  formatLockTable,
  LockBenchError,
  runLockBench,
  writeLockReport,
  type LockBenchOptions,
  type LockBenchReport,
  type PingPongRow,
  type UncontendedRow,
} from './run-lock-bench.js';
export {
  formatShmRingReport,
  QUICK_SHM_RING_REPORT,
  runShmRingReport,
  writeShmRingReport,
  type ShmRingReport,
  type ShmRingReportOptions,
} from './shm-ring/shm-ring-report.js';
export { renderBenchChart } from './chart-svg.js';
export { readBenchReport, writeBenchCharts } from './write-chart.js';
