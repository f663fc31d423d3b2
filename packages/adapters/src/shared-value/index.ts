export { SharedValue, sharedValue, type SharedValueOptions } from './shared-value.js';
