/**
 * A snapshot of the machine's named IPC objects: `/dev/shm`, `/dev/mqueue` (when mounted),
 * System V objects from `ipcs`, and socket files and FIFOs in the temporary directory. The test run compares the snapshot
 * taken before with the one after, so a leak fails the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Snapshot = Record<string, string[]>;

export function snapshotKernelObjects(): Snapshot {
  return {
    '/dev/shm': list('/dev/shm'),
    '/dev/mqueue': list('/dev/mqueue'),
    ipcs: sysv(),
    [tmpdir()]: socketsAndFifos(tmpdir()),
  };
}

/** What `after` has that `before` had not, as lines for a person. */
export function leaked(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [where, entries] of Object.entries(after)) {
    const had = new Set(before[where] ?? []);
    for (const entry of entries) if (!had.has(entry)) lines.push(`${where}: ${entry}`);
  }
  return lines;
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Socket files and FIFOs in `dir`, and in its `rxipc-*` directories (where the tests make
 * theirs): one left after the run is a leak, even if its directory survived.
 */
function socketsAndFifos(dir: string): string[] {
  const found: string[] = [];
  const visit = (where: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(where);
    } catch {
      return; // removed meanwhile, or not ours to read
    }
    for (const name of names) {
      const full = path.join(where, name);
      try {
        const stat = lstatSync(full);
        if (stat.isSocket() || stat.isFIFO()) found.push(full);
        else if (depth === 0 && stat.isDirectory() && name.startsWith('rxipc-')) visit(full, 1);
      } catch {
        // gone meanwhile
      }
    }
  };
  visit(dir, 0);
  return found.sort();
}

function sysv(): string[] {
  try {
    const out = execFileSync('ipcs', ['-a'], { encoding: 'utf8' });
    // Rows start with a key (0x...), then the id: "0x00000000 5 root 600 ..."
    return out
      .split('\n')
      .filter((line) => /^0x[0-9a-f]+\s+\d+/.test(line))
      .map((line) => line.split(/\s+/).slice(0, 2).join(' id '))
      .sort();
  } catch {
    return [];
  }
}
