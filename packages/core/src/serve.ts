/**
 * `serve(uri, handler)`: a named endpoint that unrelated processes reach with `connect(uri)`.
 */
import {
  type Channel,
  codecs,
  type Connection,
  listen,
  type ListenOptions,
  type Peer,
  writeAll,
} from '@rxipc/adapters';
import {
  from,
  isObservable,
  Observable,
  type ObservableInput,
  type Subscription,
  timer,
} from 'rxjs';

/** Options for {@link serve}. */
export interface ServeOptions extends Omit<
  ListenOptions<unknown, unknown>,
  'codec' | 'onDecodeError'
> {
  /** How messages are encoded; both ends must agree. Default: `'v8'`. */
  readonly codec?: 'v8' | 'json' | 'utf8' | 'raw';
  /**
   * Called when a connection's handler fails (it threw, or its output errored) or the
   * connection broke; the connection is closed, and the server goes on. Default: ignore.
   */
  readonly onError?: (error: unknown, peer: Peer) => void;
  /**
   * Milliseconds to wait, after the handler's output has ended, for the peer to end its side
   * before the connection is closed anyway. Default: 5000.
   */
  readonly lingerMs?: number;
}

/** What a handler gets: the connection's messages, and who is at the other end. */
export type ServeHandler<I, O> = (input: Observable<I>, peer: Peer) => ObservableInput<O>;

/**
 * Binds `uri` (a scheme that can listen: `unix:/run/app.sock`, `unix:@name`, `tcp://host:port`)
 * and, for each process that connects, runs `handler` on the messages it sends; what the
 * handler's output emits is sent back, in order. The returned `Observable` emits each
 * connecting peer (pid, uid and gid on Unix sockets; an address on TCP).
 *
 * - **Lifetime**: cold. Subscribing binds (a socket file is recorded in the registry of named
 *   objects and removed when the server stops); unsubscribing stops listening and closes
 *   every connection.
 * - **Per connection**: when the peer ends its side, the handler's input completes; when the
 *   handler's output completes, this side ends, and the connection is closed once the peer
 *   has ended too (or after `lingerMs`). A handler that fails closes its connection only,
 *   and `onError` hears about it.
 * - **Backpressure**: the handler's input is an rxipc source, and its output is written with
 *   `writeAll`: while the peer does not read, the handler's input is not read either, and the
 *   peer's own sends wait.
 * - Peers can be restricted with `allowUid`, `allowGid` and `accept`, as for `listen`.
 *
 * @example
 * ```ts
 * // a word counter that any local process can use
 * serve('unix:/tmp/count.sock', (lines: Observable<string>) =>
 *   lines.pipe(map((line) => line.split(' ').length)),
 * ).subscribe((peer) => console.log('connected: pid', peer.pid));
 * // elsewhere: lines$.pipe(connect('unix:/tmp/count.sock')).subscribe(console.log);
 * ```
 * @throws {TypeError} `ERR_RXIPC_CANNOT_LISTEN`, at call time, for a scheme that cannot
 * listen; `ERR_INVALID_ARG_VALUE` for a malformed URI. A bind error (`EADDRINUSE`, `EACCES`)
 * is the subscriber's error.
 */
export function serve<I = unknown, O = unknown>(
  uri: string,
  handler: ServeHandler<I, O>,
  options: ServeOptions = {},
): Observable<Peer> {
  const { codec = 'v8', onError, lingerMs = 5000, ...listenOptions } = options;
  const connections = listen<I, O>(uri, {
    ...(listenOptions as ListenOptions<I, O>),
    codec: codecs[codec] as never,
  });
  return new Observable<Peer>((subscriber) => {
    const open = new Set<Channel<I, O>>();
    const sessions = new Set<Subscription>();
    const listening = connections.subscribe({
      next(connection) {
        open.add(connection);
        subscriber.next(connection.peer);
        const session = runSession(connection, handler, lingerMs, (error) =>
          onError?.(error, connection.peer),
        ).subscribe({
          complete: () => {
            sessions.delete(session);
            open.delete(connection);
          },
        });
        sessions.add(session);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => {
      listening.unsubscribe();
      for (const session of sessions) session.unsubscribe();
      for (const connection of open) void connection.close();
    };
  });
}

/** One connection: handler in, output back, then a clean close. Never errors. */
function runSession<I, O>(
  connection: Connection<I, O>,
  handler: ServeHandler<I, O>,
  lingerMs: number,
  report: (error: unknown) => void,
): Observable<never> {
  return new Observable<never>((subscriber) => {
    let output: Observable<O>;
    try {
      const result = handler(connection, connection.peer);
      output = isObservable(result) ? (result as Observable<O>) : from(result);
    } catch (error) {
      report(error);
      void connection.close().then(() => subscriber.complete());
      return;
    }
    let linger: Subscription | undefined;
    writeAll(connection, output, { end: true }).then(
      () => {
        // Wait for the peer's end (reading and dropping what it still sends), then close.
        linger = new Observable<void>((done) => {
          const drain = connection.subscribe({
            error: () => done.complete(),
            complete: () => done.complete(),
          });
          const cap = timer(lingerMs).subscribe(() => done.complete());
          return () => {
            drain.unsubscribe();
            cap.unsubscribe();
          };
        }).subscribe({
          complete: () => void connection.close().then(() => subscriber.complete()),
        });
      },
      (error: unknown) => {
        report(error);
        void connection.close().then(() => subscriber.complete());
      },
    );
    return () => {
      linger?.unsubscribe();
      void connection.close();
    };
  });
}
