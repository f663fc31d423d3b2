/**
 * `connect(uri)`: the client of `serve(uri, handler)`, as an operator.
 */
import { codecs, open, type OpenOptions, writeAll } from '@rxipc/adapters';
import { Observable, type OperatorFunction } from 'rxjs';

/** Options for {@link connect}. */
export interface ConnectOptions extends Omit<OpenOptions<unknown, unknown>, 'codec'> {
  /** How messages are encoded; the server must use the same. Default: `'v8'`. */
  readonly codec?: 'v8' | 'json' | 'utf8' | 'raw';
}

/**
 * An operator that sends its input to the server at `uri` (see `serve`) and emits what the
 * server sends back. Each subscription is one connection.
 *
 * - **Completion**: when the input completes, this side of the connection ends (the server's
 *   handler sees its input complete); the output completes when the server ends its side.
 * - **Errors**: a connection failure (`ECONNREFUSED`, `ENOENT` for a missing socket file,
 *   `ECONNRESET`) errors the output; so does the input's error, after which the connection is
 *   closed.
 * - **Backpressure**: the input is written with `writeAll` (an rxipc source or an iterable is
 *   paused while `highWaterMark` messages wait for the kernel, so a slow server slows it), and
 *   the server's messages are read only while the consumer has demand (through valves).
 * - Unsubscribing closes the connection.
 *
 * @example
 * ```ts
 * from(['a b', 'c d e']).pipe(connect<string, number>('unix:/tmp/count.sock', { codec: 'json' }))
 *   .subscribe((words) => console.log(words)); // 2, 3
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE`, at call time, for a malformed URI;
 * `ERR_RXIPC_UNKNOWN_SCHEME` for a scheme no adapter has.
 */
export function connect<I = unknown, O = unknown>(
  uri: string,
  options: ConnectOptions = {},
): OperatorFunction<I, O> {
  const { codec = 'v8', ...rest } = options;
  const openOptions = { ...(rest as OpenOptions<O, I>), codec: codecs[codec] as never };
  // Fail at call time for a bad URI: open() parses it without touching the kernel.
  void open<O, I>(uri, openOptions).close();
  return (input) =>
    new Observable<O>((subscriber) => {
      const channel = open<O, I>(uri, openOptions);
      // Reading under the consumer's valve (the one in force now), so that a slow consumer
      // slows the server.
      const reading = channel.subscribe(subscriber);
      // Writing outside it: the input must not wait for the consumer, only for the kernel.
      queueMicrotask(() => {
        if (subscriber.closed) return;
        writeAll(channel, input, { end: true }).catch((error: unknown) => {
          subscriber.error(error);
          void channel.close();
        });
      });
      return () => {
        reading.unsubscribe();
        void channel.close();
      };
    });
}
