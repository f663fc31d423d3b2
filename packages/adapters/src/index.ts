/**
 * @rxipc/adapters: Unix IPC mechanisms as RxJS channels.
 */
import './builtins.js';

export {
  defineAdapter,
  type Adapter,
  type ListenerEvents,
  type MessageAdapter,
  type Peer,
  type StreamAdapter,
  type TransportListener,
} from './adapter.js';
export type { Channel, ChannelOptions, ChannelStats, OverflowPolicy } from './channel/channel.js';
export { framedTransport } from './channel/framed-transport.js';
export { transportChannel } from './channel/transport-channel.js';
export { END, type ByteStreamTransport, type MessageTransport } from './channel/transport.js';
export * from './codecs/index.js';
export * from './errors.js';
export { fdAdapter, type FdEndpoint } from './fd/fd-adapter.js';
export * from './file-lock/index.js';
export * from './fifo/index.js';
export { fdTransport, type FdTransportOptions } from './fd/fd-transport.js';
export { boundedMergeMap, type BoundedMergeMapOptions } from './flow/bounded-merge-map.js';
export { toAsyncIterator } from './flow/to-async-iterator.js';
export { currentValve, subscribeWithValve, ValveController, type Valve } from './flow/valve.js';
export { writeAll, type WriteAllOptions } from './flow/write-all.js';
export * from './framing/index.js';
export { open, registerAdapter, registeredAdapters, type OpenOptions } from './open.js';
export { listen, type Connection, type ListenOptions } from './listen.js';
export { parentChannel } from './pipe/parent-channel.js';
export { pipeAdapter } from './pipe/pipe-adapter.js';
export * from './permit/index.js';
export * from './posix-mq/index.js';
export { CHANNEL_ENV, parentChannelUri, pipeLink, type PipeLink } from './pipe/pipe-link.js';
export {
  boolParam,
  intParam,
  knownParams,
  oneOfParam,
  splitUri,
  validation,
  type Parsed,
  type Problems,
  type UriParts,
} from './uri/uri.js';
export {
  claimNamedObject,
  forgetNamedObject,
  isAlive,
  listNamedObjects,
  registerNamedObject,
  registryDir,
  releaseAllNamedObjects,
  startTimeOf,
  type NamedObjectEntry,
  type NamedObjectKind,
  type NamedObjectRecord,
  type Remover,
} from './registry/named-objects.js';
export {
  registerRemover,
  removableKinds,
  removerFor,
  type NamedObjectRemover,
  type RemoveOutcome,
} from './registry/removers.js';
export * from './robust-mutex/index.js';
export * from './semaphore/index.js';
export * from './shared-value/index.js';
export * from './shm/index.js';
export * from './shm-ring/index.js';
export * from './sysv-mq/index.js';
export * from './sysv-sem/index.js';
export * from './tcp/index.js';
export * from './unix-socket/index.js';
