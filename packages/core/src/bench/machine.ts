/**
 * What the bench needs to know about the machine: its description for the report, the CPUs
 * it may pin to, and `taskset`. Internal to the bench.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';

import type { MachineInfo } from './report.js';

const run = promisify(execFile);

/** Describes this machine for the report. */
export function machineInfo(allowedCpus: readonly number[], cc: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: process.platform,
    arch: process.arch,
    kernel: os.release(),
    kernelVersion: os.version(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    allowedCpus,
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    cc,
  };
}

/** The CPUs this process may run on (`Cpus_allowed_list` in /proc/self/status). */
export async function allowedCpus(): Promise<number[]> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
    if (list !== undefined) return parseCpuList(list);
  } catch {
    // Not Linux, or no /proc: fall through.
  }
  return os.cpus().map((_, i) => i);
}

/** `0-2,5` → `[0, 1, 2, 5]`. */
function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The path of `taskset` (util-linux), which pins each peer to its vCPU. */
export async function findTaskset(): Promise<string> {
  for (const candidate of ['taskset', '/usr/bin/taskset', '/bin/taskset']) {
    try {
      await run(candidate, ['-V']);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new Error(
    'the bench pins its processes with taskset, which is not installed (apt-get install util-linux)',
  );
}
