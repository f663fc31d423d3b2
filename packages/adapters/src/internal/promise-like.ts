/**
 * Whether `value` is a promise (any thenable) rather than the value itself: an adapter's
 * `connect` returns a transport, or a promise of one when opening has to wait.
 */
export function isPromiseLike<T extends object>(
  value: T | PromiseLike<T>,
): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}
