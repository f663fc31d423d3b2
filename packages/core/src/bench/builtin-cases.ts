/** Registers the mechanisms `rxipc bench` measures out of the box. One line per mechanism. */
import { registerBenchCase } from './bench-case.js';
import { pipeCase } from './cases/pipe.js';
import { fifoCase } from './cases/fifo.js';
import { tcpCase } from './cases/tcp.js';
import { unixDgramCase, unixSeqpacketCase, unixStreamCase } from './cases/unix-socket.js';
import { posixMqCase } from './cases/posix-mq.js';
import { sysvMqCase } from './cases/sysv-mq.js';
import { flockCase } from './cases/flock.js';
import { ofdCase } from './cases/ofd.js';
import { posixSemCase } from './cases/posix-sem.js';
import { robustMutexCase } from './cases/robust-mutex.js';
import { sharedSemCase } from './cases/shared-sem.js';
import { sysvSemCase } from './cases/sysv-sem.js';
import { shmRingCase } from './cases/shm-ring.js';
import { registerLockBenchCase } from './lock-case.js';

registerBenchCase(pipeCase);
registerBenchCase(fifoCase);
registerBenchCase(unixStreamCase);
registerBenchCase(unixDgramCase);
registerBenchCase(unixSeqpacketCase);
registerBenchCase(tcpCase);
registerBenchCase(posixMqCase);
registerBenchCase(sysvMqCase);
registerBenchCase(shmRingCase);

// Locks and semaphores carry no data: the lock bench measures them (run-lock-bench.ts).
registerLockBenchCase(posixSemCase);
registerLockBenchCase(sysvSemCase);
registerLockBenchCase(sharedSemCase);
registerLockBenchCase(flockCase);
registerLockBenchCase(ofdCase);
registerLockBenchCase(robustMutexCase);
