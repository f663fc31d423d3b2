export { fifo, type FifoConfig } from './fifo.js';
export { fifoAdapter } from './fifo-adapter.js';
export type { FifoEndpoint } from './uri.js';
