export type { ShmSegment } from './segment.js';
export { posixShm, type PosixShmOptions, type PosixShmSegment } from './posix-shm.js';
export { sysvShm, type SysvShmOptions, type SysvShmSegment } from './sysv-shm.js';
export {
  memfdShm,
  memfdShmFromFd,
  UnsealedSegmentError,
  type MemfdSegment,
  type MemfdShmFromFdOptions,
  type MemfdShmOptions,
} from './memfd-shm.js';
export {
  PeerDiedError,
  RingBusyError,
  RingCorruptError,
  ShmBusyError,
  ShmClosedError,
  ShmLayoutError,
} from './errors.js';
