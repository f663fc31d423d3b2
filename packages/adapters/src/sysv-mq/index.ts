/** System V message queues: the `sysv-mq:` scheme and `sysvMq()`. */
export { sysvMq, type SysvMqMessage, type SysvMqOptions, type SysvMqOutgoing } from './sysv-mq.js';
export { sysvMqAdapter } from './sysv-mq-adapter.js';
export { sysvMqTransport, type SysvMqTransportOptions } from './sysv-mq-transport.js';
export { keyLabel, parseSysvMqUri, type SysvMqEndpoint } from './uri.js';
