export {
  SEMVMX,
  sysvSemaphoreSet,
  SysvSemaphoreSet,
  type SemRequest,
  type SysvSemaphoreSetConfig,
  type SysvSemKey,
} from './sysv-semaphore-set.js';
