import type { Framing, FramingName } from './framing.js';
import { lengthPrefixed } from './length-prefixed.js';
import { lineFraming } from './line.js';
import { rawFraming } from './raw.js';

export {
  DEFAULT_MAX_FRAME_SIZE,
  type FrameDecoder,
  type Framing,
  type FramingName,
} from './framing.js';
export { lengthPrefixed } from './length-prefixed.js';
export { lineFraming } from './line.js';
export { rawFraming } from './raw.js';

/** The framings a URI can name with `?framing=`. */
export const framings: Readonly<Record<FramingName, Framing>> = {
  length: lengthPrefixed,
  line: lineFraming,
  raw: rawFraming,
};
