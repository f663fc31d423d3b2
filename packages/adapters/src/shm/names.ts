/**
 * Checks shared by the shared-memory creation functions: the friendly TypeScript-side
 * messages (the native layer checks again, and refuses what slips through).
 */

/** shm_overview(7): `/`, then 1 to 254 characters, none of them `/` (and no NUL). */
const SHM_NAME = /^\/[^/\0]{1,254}$/;

/** Problems with a POSIX shared-memory name, if any (for URI parsing). */
export function shmNameProblems(name: string): string[] {
  if (SHM_NAME.test(name) && Buffer.byteLength(name) <= 255) return [];
  return [
    `a POSIX shared-memory name is "/" and 1 to 254 more characters, none of them "/" (shm_overview(7)); got ${JSON.stringify(name)}`,
  ];
}

/** The name, or a `TypeError` (`ERR_INVALID_ARG_VALUE`) that says what a name looks like. */
export function checkShmName(name: unknown): string {
  const problems = typeof name === 'string' ? shmNameProblems(name) : ['a name must be a string'];
  if (problems.length > 0) {
    throw Object.assign(new TypeError(problems.join('; ')), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return name as string;
}

/** A byte count from 1 to 2^53-1, or a `RangeError` (`ERR_OUT_OF_RANGE`). */
export function checkSize(size: unknown, what: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw Object.assign(
      new RangeError(`${what} must be a positive integer number of bytes, got ${String(size)}`),
      { code: 'ERR_OUT_OF_RANGE' },
    );
  }
  return size;
}
