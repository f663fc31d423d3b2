import { isObservable, type Observable, type Subscription } from 'rxjs';

import type { Channel, OverflowPolicy } from '../channel/channel.js';
import { OverflowError } from '../errors.js';
import { subscribeWithValve, ValveController } from './valve.js';

/** Options for {@link writeAll}. */
export interface WriteAllOptions {
  /**
   * For an `Observable` source: what to do when `highWaterMark` messages are pending.
   * `'pause'` (the default) closes the source's valve, which slows an rxipc source; a source
   * that ignores it gets an `OverflowError` once twice `highWaterMark` messages are pending.
   * The other policies are the channel's own `next` policies. Iterables always wait.
   */
  readonly overflow?: OverflowPolicy;
  /** Complete the channel's write side when the source ends. Default: `false`. */
  readonly end?: boolean;
}

/**
 * Sends every message of `source` into `channel` and resolves when the kernel has accepted
 * the last one. Holds at most the channel's `highWaterMark` messages pending (twice that
 * for an `Observable` that ignores demand, then an `OverflowError`); an iterable or async
 * iterable is pulled only as fast as the kernel accepts. The first failed send (the peer
 * left, the channel closed) rejects the promise and stops the source: an `Observable` is
 * unsubscribed, an iterable no longer pulled.
 *
 * @example
 * ```ts
 * await writeAll(open('fd:1?framing=line&codec=utf8'), ['a', 'b', 'c'], { end: true });
 * ```
 */
export async function writeAll<T>(
  channel: Channel<unknown, T>,
  source: Observable<T> | Iterable<T> | AsyncIterable<T>,
  options: WriteAllOptions = {},
): Promise<void> {
  if (isObservable(source)) await writeObservable(channel, source, options.overflow ?? 'pause');
  else await writeIterable(channel, source);
  if (options.end === true) channel.complete();
}

async function writeIterable<T>(
  channel: Channel<unknown, T>,
  source: Iterable<T> | AsyncIterable<T>,
): Promise<void> {
  let last: Promise<void> = Promise.resolve();
  // The first failed send ends the loop (and so stops pulling the source).
  let failure: { error: unknown } | undefined;
  for await (const message of source as AsyncIterable<T>) {
    if (channel.pending > 0) await channel.ready();
    if (failure !== undefined) throw failure.error;
    last = channel.send(message);
    // Noticed on the next turn without awaiting every send (that would cost one tick each).
    last.catch((error: unknown) => (failure ??= { error }));
  }
  await last;
}

function writeObservable<T>(
  channel: Channel<unknown, T>,
  source: Observable<T>,
  overflow: OverflowPolicy,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const valve = new ValveController();
    let last: Promise<void> = Promise.resolve();
    let failed = false;
    const hardLimit = 2 * channel.highWaterMark;
    // Filled once subscribe() returns; a synchronous source runs before that.
    const upstream: { subscription?: Subscription } = {};
    const subscription = subscribeWithValve(source, valve, {
      next(message) {
        if (failed) return;
        if (overflow !== 'pause') {
          channel.next(message);
          return;
        }
        if (channel.pending >= hardLimit) {
          failed = true;
          reject(
            new OverflowError(
              `writeAll: the source ignored the pause and ${channel.pending} messages are pending`,
            ),
          );
          upstream.subscription?.unsubscribe();
          return;
        }
        last = channel.send(message);
        // A failed send (the peer is gone, the channel closed) ends the write: stop the source,
        // so whatever produces it (processes, a pipeline) is released now, not when it ends.
        last.catch((error: unknown) => {
          if (failed) return;
          failed = true;
          reject(error);
          upstream.subscription?.unsubscribe();
        });
        if (valve.open && channel.pending >= channel.highWaterMark) {
          valve.close();
          void channel.ready().then(() => valve.reopen());
        }
      },
      error(error: unknown) {
        failed = true;
        reject(error);
      },
      complete() {
        if (!failed) last.then(resolve, reject);
      },
    });
    upstream.subscription = subscription;
    // A synchronous source may have failed before subscribe() returned.
    if (failed) subscription.unsubscribe();
  });
}
