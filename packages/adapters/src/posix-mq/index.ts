/** POSIX message queues: the `mq:` scheme and `posixMq()`. */
export {
  posixMq,
  type PosixMqMessage,
  type PosixMqOptions,
  type PosixMqOutgoing,
} from './posix-mq.js';
export { posixMqAdapter } from './posix-mq-adapter.js';
export { posixMqTransport, type PosixMqTransportOptions } from './posix-mq-transport.js';
export { MQ_MAX_PRIORITY, parseMqUri, type MqAccess, type PosixMqEndpoint } from './uri.js';
