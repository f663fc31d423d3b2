/**
 * What the bench measures in each cell of the matrix: rxipc on a mechanism, that mechanism's
 * C program, and the two Node baselines. Each knows how to set up one run. Internal.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { BenchCase } from './bench-case.js';
import { nodePeer, type PeerCommand } from './peer-process.js';
import type { PlacementCpus } from './report.js';

/** The processes of one run, and what the runner does around them. */
export interface RunSetup {
  /** Started first; the producer starts once it has printed `{"event":"ready"}`. */
  readonly consumer: PeerCommand;
  /** Absent when the consumer starts its own producer (`process.send`). */
  readonly producer?: PeerCommand;
  afterSpawn?(): void;
  dispose(): void | Promise<void>;
}

/** One line of the comparison. */
export interface Contender {
  /** `'rxipc'`, `'c'`, `'net'` or `'process.send'`. */
  readonly kind: 'rxipc' | 'c' | 'net' | 'process.send';
  /** For progress and errors: `'rxipc pipe'`, `'C pipe'`, `'net'`, `'process.send'`. */
  readonly label: string;
  /** The mechanism, for `rxipc` and `c`. */
  readonly mechanism?: string;
  /** A cautious guess of the message rate at `size`, for the calibration run's count. */
  guess(size: number): number;
  prepare(count: number, size: number, cpus: PlacementCpus): Promise<RunSetup>;
}

/** Messages per second at `size`: `small` for small messages, bounded by `bytesPerSecond`. */
function rateGuess(small: number, bytesPerSecond: number): (size: number) => number {
  return (size) => Math.min(small, bytesPerSecond / Math.max(size, 1));
}

/** rxipc on `benchCase`: `rx-producer` and `rx-consumer` open the case's URIs. */
export function rxipcContender(benchCase: BenchCase): Contender {
  return {
    kind: 'rxipc',
    label: `rxipc ${benchCase.name}`,
    mechanism: benchCase.name,
    guess: rateGuess(2e6, 1e9),
    async prepare(count, size) {
      const endpoints = await benchCase.open();
      const numbers = [String(count), String(size)];
      return {
        consumer: nodePeer(
          'rx-consumer',
          [endpoints.consumer.uri, ...numbers],
          endpoints.consumer.fds,
        ),
        producer: nodePeer(
          'rx-producer',
          [endpoints.producer.uri, ...numbers],
          endpoints.producer.fds,
        ),
        ...(endpoints.afterSpawn === undefined
          ? {}
          : { afterSpawn: () => endpoints.afterSpawn!() }),
        dispose: () => endpoints.dispose(),
      };
    },
  };
}

/** `benchCase`'s C program (already compiled to `executable`), on the same endpoints. */
export function cContender(benchCase: BenchCase, executable: string): Contender {
  return {
    kind: 'c',
    label: `C ${benchCase.name}`,
    mechanism: benchCase.name,
    guess: rateGuess(1e6, 5e8),
    async prepare(count, size) {
      const endpoints = await benchCase.open();
      const command = (mode: string, peer: typeof endpoints.consumer): PeerCommand => ({
        command: executable,
        args: [mode, String(count), String(size), ...peer.cArgs],
        fds: peer.fds ?? [],
      });
      return {
        consumer: command('read', endpoints.consumer),
        producer: command('write', endpoints.producer),
        ...(endpoints.afterSpawn === undefined
          ? {}
          : { afterSpawn: () => endpoints.afterSpawn!() }),
        dispose: () => endpoints.dispose(),
      };
    },
  };
}

let socketSerial = 0;

/** A raw Node `net` Unix socket: one `write()` per frame, frames parsed by hand. */
export function netContender(): Contender {
  return {
    kind: 'net',
    label: 'net',
    guess: rateGuess(5e5, 5e8),
    async prepare(count, size) {
      const socketPath = path.join(
        os.tmpdir(),
        `rxipc-bench-${process.pid}-${++socketSerial}.sock`,
      );
      const numbers = [String(count), String(size)];
      return {
        consumer: nodePeer('net-consumer', [socketPath, ...numbers]),
        producer: nodePeer('net-producer', [socketPath, ...numbers]),
        dispose: () => rm(socketPath, { force: true }),
      };
    },
  };
}

/** Node's `child_process` IPC channel (json): the consumer forks the pinned producer. */
export function processSendContender(taskset: string): Contender {
  return {
    kind: 'process.send',
    label: 'process.send',
    guess: rateGuess(1e5, 1e8),
    async prepare(count, size, cpus) {
      return {
        consumer: nodePeer('send-consumer', [
          String(count),
          String(size),
          String(cpus.producer),
          taskset,
        ]),
        dispose: () => {},
      };
    },
  };
}
