/**
 * Loads the rxipc addon. `native` is the typed surface described in `binding.ts`.
 */
import { createRequire } from 'node:module';

import type { Binding } from './binding.js';

export * from './binding.js';

const require = createRequire(import.meta.url);

/** The loaded addon (built by `node-gyp` at install; see `scripts/build-addon.mjs`). */
export const native: Binding = require('../build/Release/rxipc.node') as Binding;
