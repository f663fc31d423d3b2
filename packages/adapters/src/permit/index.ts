export { acquirePermit, withPermit, type Lock, type Permit } from './permit.js';
export { LockClosedError } from './lock-core.js';
