/**
 * A child that never outlives its parent: the kernel's parent-death signal (prctl(2)
 * `PR_SET_PDEATHSIG`), armed by the child itself as it starts, plus a check of `getppid()`
 * right after, for a parent that died before the signal was armed.
 */
import { constants } from 'node:os';

import { native } from '@rxipc/native';

/**
 * Arms the parent-death signal of this process: when the parent dies, however it dies
 * (SIGKILL included), the kernel sends `signal` (default `'SIGKILL'`) to this process. If the
 * parent is already gone (this process was reparented, so `getppid()` is not
 * `expectedParent`), this process exits at once with status 129.
 *
 * Stage processes call it first thing. Linux only; on other systems it does nothing and
 * returns `false`. Caveat (prctl(2)): "parent" is the thread that spawned this process, so
 * spawn children from the main thread, not from a worker thread that may end first.
 *
 * @example
 * ```ts
 * dieWithParent(Number(process.env.MY_PARENT_PID));
 * ```
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a signal that does not exist.
 * @returns `true` when the signal is armed.
 */
export function dieWithParent(
  expectedParent: number = process.ppid,
  signal: NodeJS.Signals = 'SIGKILL',
): boolean {
  if (process.platform !== 'linux') return false;
  const number = constants.signals[signal] as number | undefined;
  if (number === undefined) {
    throw Object.assign(new RangeError(`unknown signal ${String(signal)}`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  const parent = native.setParentDeathSignal(number);
  if (parent !== expectedParent) {
    // The parent died before the signal was armed: nobody will send it. Leave now.
    process.exit(129);
  }
  return true;
}
