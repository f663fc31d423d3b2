/**
 * Stage links: how a pipeline's parent and one stage process reach each other. A link makes
 * the kernel objects for one process, gives the child a URI to `open`, and gives the parent
 * its channel. `pipe` (two anonymous pipes the child inherits) is built in; a transport that
 * lands later (a Unix socket, a shared-memory ring) registers its own link by scheme, and a
 * stage chooses it with its `transport` option.
 */
import { randomUUID } from 'node:crypto';

import { type Channel, listen, open, pipeLink } from '@rxipc/adapters';
import type { Subscription } from 'rxjs';

/** What a link needs to know to make one connection. */
export interface StageLinkRequest {
  /** The parent channel's `highWaterMark`, in messages. */
  readonly highWaterMark: number;
  /** `<stage>-<replica>`, for names of kernel objects. */
  readonly label: string;
  /** The options after `?` in the stage's `transport` (`'shm?slots=8'`: `slots=8`). */
  readonly options: URLSearchParams;
}

/** One connection between the parent and one stage process. */
export interface StageLinkConnection {
  /** What the child passes to `open()`: a channel of raw messages (the pipeline encodes). */
  readonly childUri: string;
  /** Descriptors the child inherits as fd 3, 4, ... (the numbers `childUri` names). */
  readonly inherit: readonly number[];
  /**
   * Called right after the spawn, with the child's pid (pipes close the parent's copies of the
   * child's ends; sockets accept only that pid).
   */
  afterSpawn(pid: number | undefined): void;
  /** The parent's channel of raw messages, once the child is connected (pipes: at once). */
  readonly channel: Promise<Channel<Uint8Array>>;
  /**
   * The largest message the pipeline should send on this link, in bytes: batches of frames are
   * kept under it. Default: 256 KiB.
   */
  readonly maxBatchBytes?: number;
  /** Releases what the link made (the channel is closed by its user first). Idempotent. */
  dispose(): void | Promise<void>;
}

/** A transport for stages, by scheme. */
export interface StageLinkFactory {
  /** The `transport` option's value (`'pipe'`). */
  readonly scheme: string;
  /** One line for documentation and errors. */
  readonly description: string;
  /** Makes one connection; called once per stage process (again for a restarted one). */
  connect(request: StageLinkRequest): StageLinkConnection;
}

const links = new Map<string, StageLinkFactory>();

/**
 * Makes a transport available to stages as `stage(module, { transport: factory.scheme })`.
 *
 * @example
 * ```ts
 * registerStageLink({
 *   scheme: 'unix',
 *   description: 'a Unix stream socket per stage process',
 *   connect: (request) => unixStageLink(request),
 * });
 * ```
 * @throws {TypeError} `ERR_RXIPC_SCHEME_TAKEN` when a link has that scheme already.
 */
export function registerStageLink(factory: StageLinkFactory): void {
  if (links.has(factory.scheme)) {
    throw Object.assign(new TypeError(`a stage link for ${factory.scheme}: exists already`), {
      code: 'ERR_RXIPC_SCHEME_TAKEN',
    });
  }
  links.set(factory.scheme, factory);
}

/**
 * The link for `scheme` (a stage's `transport` option, without its query).
 *
 * @throws {TypeError} `ERR_RXIPC_UNKNOWN_SCHEME` when no link has that scheme.
 */
export function stageLink(scheme: string): StageLinkFactory {
  const factory = links.get(scheme.split('?')[0]!);
  if (factory === undefined) {
    throw Object.assign(
      new TypeError(
        `no stage transport ${scheme}: (known: ${[...links.keys()].map((s) => `${s}:`).join(', ')})`,
      ),
      { code: 'ERR_RXIPC_UNKNOWN_SCHEME' },
    );
  }
  return factory;
}

/** `pipe`: two anonymous pipes per process, the child's ends inherited as fd 3 and 4. */
export const pipeStageLink: StageLinkFactory = {
  scheme: 'pipe',
  description: 'two anonymous pipes per stage process (fd 3 in, fd 4 out)',
  connect({ highWaterMark }) {
    const link = pipeLink({ highWaterMark });
    // spawnOptions puts the child's ends after the three standard descriptors.
    const options = link.spawnOptions({ stdio: ['ignore', 'pipe', 'pipe'] });
    const inherit = (options.stdio as unknown[]).slice(3) as number[];
    const childUri = (options.env as NodeJS.ProcessEnv)['RXIPC_CHANNEL']!;
    return {
      childUri,
      inherit,
      afterSpawn: () => link.releaseChildEnds(),
      channel: Promise.resolve(link.channel),
      dispose: () => link.releaseChildEnds(),
    };
  },
};

/**
 * `unix`: a Unix stream socket per process, bound by the parent in Linux's abstract namespace
 * (`unix:@rxipc-<pid>-<stage>-<replica>-<random>`: no file to remove, gone with the parent),
 * accepting only the child it started (checked with `SO_PEERCRED`).
 */
export const unixStageLink: StageLinkFactory = {
  scheme: 'unix',
  description: 'a Unix stream socket per stage process, in the abstract namespace',
  connect({ highWaterMark, label }) {
    const name = `rxipc-${process.pid}-${label.replace(/[^\w.-]/g, '_')}-${randomUUID().slice(0, 8)}`;
    const uri = `unix:@${name}`;
    let childPid: number | undefined;
    let settle: { resolve(c: Channel<Uint8Array>): void; reject(e: unknown): void };
    const channel = new Promise<Channel<Uint8Array>>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Bound now (synchronously, for Unix sockets), so the child finds it when it starts.
    let listening: Subscription | undefined = listen(uri, {
      highWaterMark,
      accept: (peer) => childPid !== undefined && peer.pid === childPid,
    }).subscribe({
      next(connection) {
        settle.resolve(connection);
        stop();
      },
      error: (error: unknown) => settle.reject(error),
    });
    const stop = (): void => {
      listening?.unsubscribe();
      listening = undefined;
    };
    return {
      childUri: uri,
      inherit: [],
      afterSpawn(pid) {
        childPid = pid;
      },
      channel,
      dispose: stop,
    };
  },
};

/**
 * `shm`: a shared-memory ring per process (`shm:` of `@rxipc/adapters`), for large messages:
 * `transport: 'shm?slots=8&slotSize=1100000'` (each slot must hold a whole encoded message,
 * with a few bytes of framing). Both sides open it with `create=auto`, so whichever comes
 * first creates it; the second removes the name, so nothing is left behind once both joined
 * (and the janitor removes a ring whose creator was killed before that).
 */
export const shmStageLink: StageLinkFactory = {
  scheme: 'shm',
  description: 'a shared-memory ring per stage process (for large messages)',
  connect({ highWaterMark, label, options }) {
    const name = `/rxipc-${process.pid}-${label.replace(/[^\w.-]/g, '_')}-${randomUUID().slice(0, 8)}`;
    const query = new URLSearchParams(options);
    query.set('create', 'auto');
    const uri = `shm:${name}?${query.toString()}`;
    const channel = open(uri, { highWaterMark });
    return {
      childUri: uri,
      inherit: [],
      afterSpawn() {},
      channel: Promise.resolve(channel),
      // A batch must fit one slot of the ring.
      maxBatchBytes: Math.max(1, Number(query.get('slotSize') ?? 65536) - 64),
      dispose: () => channel.close(),
    };
  },
};

registerStageLink(pipeStageLink);
registerStageLink(unixStageLink);
registerStageLink(shmStageLink);
