export {
  posixSemaphore,
  PosixSemaphore,
  Semaphore,
  SEM_VALUE_MAX,
  SEMAPHORE_LEASE_KIND,
  sharedSemaphore,
  SharedSemaphore,
  type PosixSemaphoreConfig,
  type SharedSemaphoreConfig,
} from './posix-semaphore.js';
export { reclaimSemaphoreLeases, type ReclaimedLease, type ReclaimOptions } from './leases.js';
