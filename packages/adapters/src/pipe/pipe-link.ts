import { type ChildProcess, spawn, type SpawnOptions, type StdioOptions } from 'node:child_process';

import { type FdHandle, native } from '@rxipc/native';

import type { Channel } from '../channel/channel.js';
import { framedTransport } from '../channel/framed-transport.js';
import { transportChannel } from '../channel/transport-channel.js';
import { fdTransport } from '../fd/fd-transport.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../framing/framing.js';
import { framings } from '../framing/index.js';
import type { OpenOptions } from '../open.js';

/** The environment variable through which a child learns its channel's URI. */
export const CHANNEL_ENV = 'RXIPC_CHANNEL';

/** A parent's side of two pipes to one child, and what to give the child. */
export interface PipeLink<In = Uint8Array, Out = In> {
  /** The parent's channel: reads what the child writes, writes what the child reads. */
  readonly channel: Channel<In, Out>;
  /**
   * Options for `child_process.spawn`: `stdio` (the given one, or inherit, then the child's
   * two pipe ends) and `env` with `RXIPC_CHANNEL=fd:R,W`, which {@link parentChannel} opens.
   */
  spawnOptions(base?: SpawnOptions): SpawnOptions;
  /** Spawns the child with {@link spawnOptions} and then closes the child's ends here. */
  spawn(command: string, args?: readonly string[], base?: SpawnOptions): ChildProcess;
  /** Closes this process's copies of the child's ends (after spawning: else no EOF arrives). */
  releaseChildEnds(): void;
}

/**
 * Two anonymous pipes between this process and a child, one each way. The parent's ends are
 * non-blocking; the child's ends are left blocking (a C or shell child reads them as usual)
 * and are close-on-exec here, so only the child named by `spawn` inherits them.
 *
 * @example
 * ```ts
 * const link = pipeLink({ framing: 'line', codec: utf8Codec });
 * const child = link.spawn(process.execPath, ['worker.js']);
 * link.channel.subscribe((line) => console.log('child says', line));
 * await link.channel.send('hello');
 * // worker.js:  parentChannel({ framing: 'line', codec: utf8Codec }).subscribe(...)
 * ```
 */
export function pipeLink<In = Uint8Array, Out = In>(
  options: OpenOptions<In, Out> = {},
): PipeLink<In, Out> {
  const toChild = native.pipe({ nonblock: false });
  let fromChild: [FdHandle, FdHandle];
  try {
    fromChild = native.pipe({ nonblock: false });
  } catch (error) {
    toChild.forEach((end) => native.fdClose(end));
    throw error;
  }
  const [childRead, parentWrite] = toChild;
  const [parentRead, childWrite] = fromChild;
  const framing = framings[options.framing ?? 'length'];
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const channel = transportChannel<In, Out>(
    () =>
      framedTransport(fdTransport({ read: parentRead, write: parentWrite }), framing, maxFrameSize),
    options,
  );
  let released = false;
  const releaseChildEnds = (): void => {
    if (released) return;
    released = true;
    native.fdClose(childRead);
    native.fdClose(childWrite);
  };
  const spawnOptions = (base: SpawnOptions = {}): SpawnOptions => {
    if (released) throw new Error('pipeLink: the child ends were already released');
    const stdio = normalizeStdio(base.stdio);
    const readIndex = stdio.length;
    return {
      ...base,
      stdio: [...stdio, native.fdNumber(childRead), native.fdNumber(childWrite)],
      env: { ...(base.env ?? process.env), [CHANNEL_ENV]: `fd:${readIndex},${readIndex + 1}` },
    };
  };
  return {
    channel,
    spawnOptions,
    releaseChildEnds,
    spawn(command, args = [], base = {}) {
      try {
        return spawn(command, args, spawnOptions(base));
      } finally {
        releaseChildEnds();
      }
    },
  };
}

/**
 * In a child started through {@link pipeLink}: the channel to the parent
 * (`open(process.env.RXIPC_CHANNEL)`). Pass the same framing and codec as the parent.
 *
 * @throws {Error} `ERR_RXIPC_NO_PARENT_CHANNEL` when this process was not started that way.
 */
export function parentChannelUri(): string {
  const uri = process.env[CHANNEL_ENV];
  if (uri === undefined || uri === '') {
    throw Object.assign(
      new Error(`${CHANNEL_ENV} is not set: this process was not started with pipeLink().spawn()`),
      { code: 'ERR_RXIPC_NO_PARENT_CHANNEL' },
    );
  }
  return uri;
}

type StdioEntry = Exclude<StdioOptions, string>[number];

function normalizeStdio(stdio: SpawnOptions['stdio']): StdioEntry[] {
  if (stdio === undefined) return ['inherit', 'inherit', 'inherit'];
  if (typeof stdio === 'string') return [stdio, stdio, stdio];
  return [...stdio];
}
