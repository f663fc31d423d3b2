export { tcp, type TcpConfig } from './tcp.js';
export { tcpAdapter } from './tcp-adapter.js';
export type { TcpEndpoint } from './uri.js';
