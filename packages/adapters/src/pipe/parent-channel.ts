import type { Channel } from '../channel/channel.js';
import { open, type OpenOptions } from '../open.js';
import { parentChannelUri } from './pipe-link.js';

/**
 * In a child started by `pipeLink().spawn()`: the channel to the parent, over the two pipe
 * ends the child inherited (the URI is in `RXIPC_CHANNEL`, for example `fd:3,4`).
 *
 * @example
 * ```ts
 * const parent = parentChannel({ codec: jsonCodec });
 * parent.subscribe((job) => parent.next(work(job)));
 * ```
 * @throws {Error} `ERR_RXIPC_NO_PARENT_CHANNEL` when this process was not started that way.
 */
export function parentChannel<In = Uint8Array, Out = In>(
  options: OpenOptions<In, Out> = {},
): Channel<In, Out> {
  return open(parentChannelUri(), options);
}
