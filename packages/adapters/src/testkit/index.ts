/**
 * The conformance test kit: the behaviour every rxipc adapter must show, as plain async
 * cases that throw on failure, so a plugin can run them under any test runner.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { conformanceCases } from '@rxipc/adapters/testkit';
 * describe('my adapter', () => {
 *   for (const c of conformanceCases(myTarget)) it(c.name, c.run, c.timeoutMs);
 * });
 * ```
 */
export {
  conformanceCases,
  type ConformanceCase,
  type ConformanceTarget,
  type ChannelPair,
} from './cases.js';
export { countOpenFds, nodeArgsFor, spawnPeer, type PeerReport } from './process.js';
