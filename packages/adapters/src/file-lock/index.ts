export { fileLock, FileLock, type FileLockConfig } from './file-lock.js';
