/** Registers the built-in adapters, through the same public call a plugin uses. */
import { fdAdapter } from './fd/fd-adapter.js';
import { fifoAdapter } from './fifo/fifo-adapter.js';
import { registerAdapter } from './open.js';
import { pipeAdapter } from './pipe/pipe-adapter.js';
import { shmRingAdapter } from './shm-ring/shm-ring-adapter.js';
import { posixMqAdapter } from './posix-mq/posix-mq-adapter.js';
import { sysvMqAdapter } from './sysv-mq/sysv-mq-adapter.js';
import { tcpAdapter } from './tcp/tcp-adapter.js';
import {
  unixDgramAdapter,
  unixSeqpacketAdapter,
  unixStreamAdapter,
} from './unix-socket/unix-socket-adapter.js';

registerAdapter(fdAdapter);
registerAdapter(pipeAdapter);
registerAdapter(fifoAdapter);
registerAdapter(unixStreamAdapter);
registerAdapter(unixDgramAdapter);
registerAdapter(unixSeqpacketAdapter);
registerAdapter(tcpAdapter);
registerAdapter(posixMqAdapter);
registerAdapter(sysvMqAdapter);
registerAdapter(shmRingAdapter);
