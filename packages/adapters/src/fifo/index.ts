export { fifo, type FifoConfig } from './fifo.js';
export { fifoAdapter } from './fifo-adapter.js';
export { fifoTransport } from './fifo-transport.js';
export type { FifoEndpoint } from './uri.js';
