/**
 * Loads the rxipc addon. `native` is the typed surface described in `binding.ts`.
 */
import { createRequire } from 'node:module';

import type { Binding } from './binding.js';

export * from './binding.js';

const require = createRequire(import.meta.url);

/**
 * The loaded addon (built by `node-gyp` at install; see `scripts/build-addon.mjs`), copied into
 * a plain object: the addon's own exports object has too many properties for V8 to keep it in
 * fast mode, so every `native.fn` read from optimized code was a dictionary lookup through the
 * `LoadIC` builtin (7% of the shm ring's producer); the copy has fast properties.
 */
export const native: Binding = { ...(require('../build/Release/rxipc.node') as Binding) };
