import type { Codec } from './codec.js';
import { jsonCodec } from './json.js';
import { rawCodec } from './raw.js';
import { utf8Codec } from './utf8.js';
import { v8Codec } from './v8.js';

export type { Codec } from './codec.js';
export { jsonCodec } from './json.js';
export { rawCodec } from './raw.js';
export { utf8Codec } from './utf8.js';
export { v8Codec } from './v8.js';

/** The codecs a URI can name with `?codec=`. */
export const codecs: Readonly<Record<string, Codec<unknown>>> = {
  raw: rawCodec as Codec<unknown>,
  utf8: utf8Codec as Codec<unknown>,
  json: jsonCodec,
  v8: v8Codec,
};
