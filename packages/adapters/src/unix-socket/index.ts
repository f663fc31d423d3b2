export { takeFds, withFds } from './fds.js';
export { unixSocket, type UnixSocketConfig } from './unix-socket.js';
export {
  unixDgramAdapter,
  unixSeqpacketAdapter,
  unixStreamAdapter,
} from './unix-socket-adapter.js';
export type { UnixSocketEndpoint } from './uri.js';
