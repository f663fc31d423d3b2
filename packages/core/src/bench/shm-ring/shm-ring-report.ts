/**
 * The shared-memory ring's own cells, which `rxipc bench` runs after its matrix (unless
 * `--mechanism` leaves `shm-ring` out, or `--skip-ring-report`), measured the same way (pinned
 * processes, `same` and `cross` placements, contenders interleaved, median of runs) with
 * longer runs, so that the ring's targets can be checked with ratios from one run:
 *
 * - 64-byte messages to an RxJS subscriber in another process, next to a raw Node Unix socket
 *   whose producer batches frames into ~64 KiB writes (the consumer parses frames by hand,
 *   without RxJS), and to the C ring. The batched producer packs each message into its batch
 *   (a length word and a copy, the work the ring's producer does too); a second one writes a
 *   batch built once, with no work per message, to show what the consumer alone costs;
 * - 1 MiB messages, copied in and out, next to the C ring (and the ring's zero-copy mode);
 * - round-trip latency of 64-byte messages, p50 and p99, next to the C ring's futex ping-pong
 *   (and with the ring's `spinMicros=50`, which polls before sleeping).
 *
 * Alone: `node packages/core/dist/bench/shm-ring/shm-ring-report.js` (after `pnpm build`).
 */
import { rm } from 'node:fs/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SHM_RING_SLOT_SIZE, SHM_RING_SLOTS } from '../cases/shm-ring.js';
import { cCompiler, compileC } from '../c-programs.js';
import { allowedCpus, findTaskset, machineInfo } from '../machine.js';
import { nodePeer, type PeerCommand, startPeer } from '../peer-process.js';
import type { Placement } from '../report.js';
import { defaultResultsDir } from '../write-report.js';

/** Options for {@link runShmRingReport}. */
export interface ShmRingReportOptions {
  /**
   * Target length of one throughput run, in ms (a calibration run sets the count). Default
   * 6000: every run is a fresh pair of processes, and a short run is mostly JIT warm-up (for
   * the Node contenders alike: 1.2 M messages of 64 B ran at a third of the rate of 10 M; on
   * one vCPU, runs of 2.5 s measured the ring at 9.2 M msg/s, runs of 6 s at 13.0 M, and the
   * batched socket at 13.2 M and 14.7-15.2 M).
   */
  readonly durationMs?: number;
  /** Runs per contender and cell; the median is reported. Default 3. */
  readonly runs?: number;
  /** Round trips per latency run (after 1,000 warm-up ones). Default 20,000. */
  readonly roundTrips?: number;
  /** Default `['same', 'cross']` (cross needs two CPUs). */
  readonly placements?: readonly Placement[];
  /** Called after each run. */
  readonly onProgress?: (line: string) => void;
}

/** One throughput cell: a contender, a size and a placement. */
export interface ThroughputRow {
  readonly contender: string;
  readonly size: number;
  readonly placement: Placement;
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
  readonly runs: readonly number[];
}

/** One latency cell. */
export interface LatencyRow {
  readonly contender: string;
  readonly placement: Placement;
  /** Round-trip seconds: the median of the runs' p50s and p99s. */
  readonly p50: number;
  readonly p99: number;
}

/** The report: rows, and the ratios the ring's targets are about. */
export interface ShmRingReport {
  readonly startedAt: string;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly throughput: readonly ThroughputRow[];
  readonly latency: readonly LatencyRow[];
  /** Per placement: rxipc / batched net at 64 B, rxipc / C at 1 MiB, and the GB/s. */
  readonly ratios: Readonly<
    Record<
      string,
      {
        ringVsBatchedNet64: number;
        ringVsPrebuiltNet64: number;
        ringVsC1MiB: number;
        ring1MiBGBps: number;
        ring64Mps: number;
      }
    >
  >;
}

interface Contender {
  readonly name: string;
  readonly guess: number; // messages per second, for the calibration run
  setup(
    count: number,
    size: number,
  ): { consumer: PeerCommand; producer: PeerCommand; dispose(): Promise<void> };
}

let serial = 0;

/** Measures the ring's extra cells; see the module comment. */
export async function runShmRingReport(options: ShmRingReportOptions = {}): Promise<ShmRingReport> {
  const runs = options.runs ?? 3;
  const seconds = (options.durationMs ?? 6000) / 1000;
  const roundTrips = options.roundTrips ?? 20_000;
  const progress = options.onProgress ?? (() => {});
  const [taskset, cpus, compiler] = await Promise.all([findTaskset(), allowedCpus(), cCompiler()]);
  const cRing = await compileC('shm-ring.c', compiler);
  const env = { ...process.env };
  const placements = (options.placements ?? ['same', 'cross']).filter(
    (p) => p === 'same' || cpus.length >= 2,
  );
  const pins = (placement: Placement): { producer: number; consumer: number } =>
    placement === 'same'
      ? { producer: cpus[0]!, consumer: cpus[0]! }
      : { producer: cpus[0]!, consumer: cpus[1]! };

  const ringName = (): string => `/rxipc-bench-${process.pid}-report-${++serial}`;
  const geometry = `slots=${SHM_RING_SLOTS}&slotSize=${SHM_RING_SLOT_SIZE}`;
  const unlink = async (name: string): Promise<void> => {
    await rm(`/dev/shm${name}`, { force: true });
  };
  const rxRing = (label: string, extra: string): Contender => ({
    name: label,
    guess: 2e6,
    setup(count, size) {
      const name = ringName();
      const uri = `shm:${name}?${geometry}${extra}`;
      const numbers = [String(count), String(size)];
      return {
        consumer: nodePeer('rx-consumer', [uri, ...numbers]),
        producer: nodePeer('rx-producer', [uri, ...numbers]),
        dispose: () => unlink(name),
      };
    },
  });
  const cRingContender: Contender = {
    name: 'C shm-ring',
    guess: 2e6,
    setup(count, size) {
      const name = ringName();
      const numbers = [String(count), String(size), name];
      return {
        consumer: {
          command: cRing,
          args: ['read', ...numbers, String(SHM_RING_SLOTS), String(SHM_RING_SLOT_SIZE)],
        },
        producer: { command: cRing, args: ['write', ...numbers] },
        dispose: () => unlink(name),
      };
    },
  };
  /** `batched`: frames packed into ~64 KiB writes (`pack` or `prebuilt`, see the peer). */
  const net = (label: string, batched?: 'pack' | 'prebuilt'): Contender => ({
    name: label,
    guess: batched === undefined ? 5e5 : 2e6,
    setup(count, size) {
      const socket = path.join(os.tmpdir(), `rxipc-bench-${process.pid}-${++serial}.sock`);
      const numbers = [String(count), String(size)];
      return {
        consumer: nodePeer('net-consumer', [socket, ...numbers]),
        producer:
          batched === undefined
            ? nodePeer('net-producer', [socket, ...numbers])
            : ownPeer('net-batched-producer', [socket, ...numbers, batched]),
        dispose: () => rm(socket, { force: true }),
      };
    },
  });

  const cells: { size: number; contenders: Contender[] }[] = [
    {
      size: 64,
      contenders: [
        rxRing('rxipc shm-ring', ''),
        cRingContender,
        net('net batched', 'pack'),
        net('net batched prebuilt', 'prebuilt'),
        net('net'),
      ],
    },
    {
      size: 1024 * 1024,
      contenders: [
        rxRing('rxipc shm-ring', ''),
        rxRing('rxipc shm-ring zeroCopy', '&zeroCopy=true'),
        cRingContender,
      ],
    },
  ];

  const measure = async (
    contender: Contender,
    count: number,
    size: number,
    placement: Placement,
  ): Promise<number> => {
    const { consumer, producer, dispose } = contender.setup(count, size);
    const cpu = pins(placement);
    const label = `${contender.name}, ${size} B, ${placement}`;
    const peers = [startPeer(`${label}: the consumer`, consumer, cpu.consumer, taskset, env)];
    try {
      await peers[0]!.ready;
      peers.push(startPeer(`${label}: the producer`, producer, cpu.producer, taskset, env));
      const [result] = await Promise.all(peers.map((peer) => peer.done));
      if (result === undefined || result.messages !== count) {
        throw new Error(`${label}: the consumer counted ${result?.messages} of ${count} messages`);
      }
      return result.messages / result.seconds;
    } finally {
      for (const peer of peers) peer.kill();
      await Promise.allSettled(peers.map((peer) => peer.done));
      await dispose();
    }
  };

  const throughput: ThroughputRow[] = [];
  for (const placement of placements) {
    for (const { size, contenders } of cells) {
      const counts = new Map<Contender, number>();
      for (const contender of contenders) {
        const probe = Math.max(50, Math.round(Math.min(contender.guess, 2e9 / size) * 0.1));
        const rate = await measure(contender, probe, size, placement);
        counts.set(contender, Math.max(50, Math.round(rate * seconds)));
      }
      const samples = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
      for (let run = 0; run < runs; run++) {
        for (const contender of contenders) {
          const rate = await measure(contender, counts.get(contender)!, size, placement);
          samples.get(contender)!.push(rate);
          progress(`${contender.name} ${size} B ${placement}: ${format(rate, size)}`);
        }
      }
      for (const contender of contenders) {
        const rates = samples.get(contender)!;
        const rate = median(rates);
        throughput.push({
          contender: contender.name,
          size,
          placement,
          messagesPerSecond: rate,
          bytesPerSecond: rate * size,
          runs: rates,
        });
      }
    }
  }

  const latency: LatencyRow[] = [];
  for (const placement of placements) {
    const contenders = [
      ...['', '&spinMicros=50'].map((extra) => ({
        name: extra === '' ? 'rxipc shm-ring' : 'rxipc shm-ring spin 50 us',
        setup(name: string) {
          const uri = `shm:${name}?${geometry}${extra}`;
          return {
            pong: ownPeer('rx-pong', [uri]),
            ping: ownPeer('rx-ping', [uri, String(roundTrips), '64']),
          };
        },
      })),
      {
        name: 'C shm-ring',
        setup(name: string) {
          return {
            pong: {
              command: cRing,
              args: ['pong', '0', '64', name, String(SHM_RING_SLOTS), String(SHM_RING_SLOT_SIZE)],
            },
            ping: { command: cRing, args: ['ping', String(roundTrips), '64', name] },
          };
        },
      },
    ];
    const samples = new Map<string, { p50: number; p99: number }[]>();
    for (let run = 0; run < runs; run++) {
      for (const contender of contenders) {
        const name = ringName();
        const { pong, ping } = contender.setup(name);
        const cpu = pins(placement);
        const label = `${contender.name} round trips, ${placement}`;
        const peers = [startPeer(`${label}: the pong`, pong, cpu.consumer, taskset, env)];
        try {
          await peers[0]!.ready;
          const pinger = startPeer(`${label}: the ping`, ping, cpu.producer, taskset, env);
          peers.push(pinger);
          const result = (await pinger.done) as unknown as { p50: number; p99: number };
          await peers[0]!.done;
          const list = samples.get(contender.name) ?? [];
          list.push({ p50: result.p50, p99: result.p99 });
          samples.set(contender.name, list);
          progress(`${label}: p50 ${micro(result.p50)}, p99 ${micro(result.p99)}`);
        } finally {
          for (const peer of peers) peer.kill();
          await Promise.allSettled(peers.map((peer) => peer.done));
          await unlink(name);
        }
      }
    }
    for (const [contender, list] of samples) {
      latency.push({
        contender,
        placement,
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
      });
    }
  }

  const rate = (contender: string, size: number, placement: Placement): number =>
    throughput.find(
      (r) => r.contender === contender && r.size === size && r.placement === placement,
    )?.messagesPerSecond ?? NaN;
  const ratios = Object.fromEntries(
    placements.map((p) => [
      p,
      {
        ringVsBatchedNet64: rate('rxipc shm-ring', 64, p) / rate('net batched', 64, p),
        ringVsPrebuiltNet64: rate('rxipc shm-ring', 64, p) / rate('net batched prebuilt', 64, p),
        ringVsC1MiB: rate('rxipc shm-ring', 1 << 20, p) / rate('C shm-ring', 1 << 20, p),
        ring1MiBGBps: (rate('rxipc shm-ring', 1 << 20, p) * (1 << 20)) / 1e9,
        ring64Mps: rate('rxipc shm-ring', 64, p) / 1e6,
      },
    ]),
  );
  return {
    startedAt: new Date().toISOString(),
    machine: machineInfo(cpus, compiler.version),
    throughput,
    latency,
    ratios,
  };
}

/** The report as a plain-text table. */
export function formatShmRingReport(report: ShmRingReport): string {
  const lines = [
    `shm-ring report: ${report.machine.cpus} x ${report.machine.cpuModel}, Linux ${report.machine.kernel}, Node ${report.machine.node}`,
    '',
    'throughput (median of runs)',
    ...report.throughput.map(
      (r) =>
        `  ${r.contender.padEnd(26)} ${String(r.size).padStart(8)} B  ${r.placement.padEnd(5)}  ${format(r.messagesPerSecond, r.size)}`,
    ),
    '',
    'round trip, 64 B (median of runs)',
    ...report.latency.map(
      (r) =>
        `  ${r.contender.padEnd(26)} ${r.placement.padEnd(5)}  p50 ${micro(r.p50).padStart(9)}  p99 ${micro(r.p99).padStart(9)}`,
    ),
    '',
    'ratios',
    ...Object.entries(report.ratios).map(
      ([placement, r]) =>
        `  ${placement.padEnd(5)}  64 B: ${r.ring64Mps.toFixed(2)} M msg/s, ${r.ringVsBatchedNet64.toFixed(2)}x batched net (${r.ringVsPrebuiltNet64.toFixed(2)}x prebuilt);  1 MiB: ${r.ring1MiBGBps.toFixed(2)} GB/s, ${r.ringVsC1MiB.toFixed(2)}x the C ring`,
    ),
  ];
  return lines.join('\n');
}

/** A peer in `./peers/`, from TypeScript sources (through tsx) or from `dist`. */
function ownPeer(name: string, args: readonly string[]): PeerCommand {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(
    new URL(`./peers/${name}${fromSource ? '.ts' : '.js'}`, import.meta.url),
  );
  const loader = fromSource
    ? [
        '--import',
        pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
        '--conditions=@rxipc/source',
      ]
    : [];
  return { command: process.execPath, args: [...loader, script, ...args] };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(messagesPerSecond: number, size: number): string {
  return `${(messagesPerSecond / 1e6).toFixed(2).padStart(7)} M msg/s ${((messagesPerSecond * size) / 1e9).toFixed(2).padStart(7)} GB/s`;
}

function micro(seconds: number): string {
  return `${(seconds * 1e6).toFixed(1)} us`;
}

/** Options for a smoke run (`--quick`): one short run per cell. Not a measurement. */
export const QUICK_SHM_RING_REPORT: ShmRingReportOptions = {
  runs: 1,
  durationMs: 200,
  roundTrips: 5000,
};

/** Writes the report as `shm-ring-latest.json` in `dir`; returns the file's path. */
export async function writeShmRingReport(report: ShmRingReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'shm-ring-latest.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const report = await runShmRingReport({
    onProgress: (line) => process.stderr.write(`${line}\n`),
    ...(process.argv.includes('--quick') ? QUICK_SHM_RING_REPORT : {}),
  });
  process.stdout.write(`${formatShmRingReport(report)}\n`);
  const file = await writeShmRingReport(report, defaultResultsDir());
  process.stderr.write(`written to ${file}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
