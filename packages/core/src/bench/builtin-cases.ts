/** Registers the mechanisms `rxipc bench` measures out of the box. One line per mechanism. */
import { registerBenchCase } from './bench-case.js';
import { pipeCase } from './cases/pipe.js';
import { posixMqCase } from './cases/posix-mq.js';
import { sysvMqCase } from './cases/sysv-mq.js';

registerBenchCase(pipeCase);
registerBenchCase(posixMqCase);
registerBenchCase(sysvMqCase);
