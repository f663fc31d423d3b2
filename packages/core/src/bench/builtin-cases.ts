/** Registers the mechanisms `rxipc bench` measures out of the box. One line per mechanism. */
import { registerBenchCase } from './bench-case.js';
import { pipeCase } from './cases/pipe.js';

registerBenchCase(pipeCase);
