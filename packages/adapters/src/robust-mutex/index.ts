export {
  conditionVariable,
  ConditionVariable,
  robustMutex,
  RobustMutex,
  type MutexPermit,
  type SharedPlacement,
} from './robust-mutex.js';
