/**
 * Friendly argument checks for the lock modules (semaphores, file locks, mutexes). The native
 * layer checks again; these name the option the way the caller wrote it.
 */

/** An integer from `min` to `max`, or a `RangeError` with code `ERR_OUT_OF_RANGE`. */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw Object.assign(
      new RangeError(
        `${name} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? String(value) : typeof value}`,
      ),
      { code: 'ERR_OUT_OF_RANGE' },
    );
  }
  return value;
}

/** A permission mode from 0 to 0o777. */
export function checkMode(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : checkInteger(value, 'mode', 0, 0o777);
}

/** A `TypeError` with code `ERR_INVALID_ARG_VALUE`. */
export function invalidValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}
