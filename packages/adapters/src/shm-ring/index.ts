export { shmRing, type ShmRingOptions } from './shm-ring.js';
export { shmRingAdapter } from './shm-ring-adapter.js';
export { SHM_RING_OPTIONS, type ShmRingEndpoint } from './uri.js';
export { ringGeometry, type RingGeometry } from './layout.js';
