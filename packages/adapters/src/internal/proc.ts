/**
 * Reading the kernel's limits from /proc, for error messages that name the limit and the file
 * that sets it. A limit that cannot be read is `undefined`, and the message says less.
 */
import { readFileSync } from 'node:fs';

/** The number in a /proc file such as `/proc/sys/fs/mqueue/msg_max`, or `undefined`. */
export function procNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A soft resource limit of this process from `/proc/self/limits` (`'Max msgqueue size'`,
 * `'Max open files'`): a number, `Infinity` for unlimited, or `undefined`.
 */
export function processLimit(name: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(name));
    if (line === undefined) return undefined;
    const soft = line.slice(name.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Infinity;
    const value = Number(soft);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
