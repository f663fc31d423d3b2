/**
 * `shm:` endpoint URIs: `shm:/name?slots=64&slotSize=65536&...`, parsed at the trust boundary
 * with every problem reported at once.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';
import { pipe } from 'fp-ts/lib/function.js';

import { modeParam } from '../internal/params.js';
import { shmNameProblems } from '../shm/names.js';
import {
  boolParam,
  defined,
  intParam,
  oneOfParam,
  type Parsed,
  type UriParts,
  validation,
} from '../uri/uri.js';

/** A shared-memory ring endpoint: the segment's name, its geometry, and how to wait. */
export interface ShmRingEndpoint {
  /** The POSIX shared-memory name: `/` and 1 to 254 more characters, none of them `/`. */
  readonly name: string;
  /**
   * Largest messages the ring holds at once, per direction (default 64). Smaller messages
   * share the space: many more of them fit.
   */
  readonly slots?: number;
  /** The largest message, in bytes (default 65536). */
  readonly slotSize?: number;
  /**
   * `'auto'` (default): create the ring, or join it if it exists. `'never'`: join only
   * (`ENOENT` if absent). `'always'`: create only (`EEXIST` if present).
   */
  readonly create?: 'auto' | 'never' | 'always';
  /** Permission bits of a new segment (default `0o600`). */
  readonly mode?: number;
  /** Deliver large messages as views into the ring, valid while `next` runs (default false). */
  readonly zeroCopy?: boolean;
  /** The smallest message delivered zero-copy (default 65536). */
  readonly zeroCopyMinSize?: number;
  /**
   * Microseconds to poll an empty ring before sleeping (default 0: sleep at once; at most
   * 10000). The poll runs on the event loop and holds it for that long each time the ring
   * runs empty, so keep it short: it pays only when both processes have a CPU of their own.
   */
  readonly spinMicros?: number;
  /** How often a waiting side checks that its peer is alive, in ms (default 200). */
  readonly livenessMs?: number;
  /**
   * How long a joiner waits for a segment whose creator has not finished setting it up, in ms
   * (default 2000, at most 60000; 0 fails at once), before it fails with
   * `ERR_RXIPC_SHM_LAYOUT`. The wait never blocks the event loop, and `close()` stops it.
   */
  readonly readyTimeoutMs?: number;
  /**
   * When the ring's slots hold 32 KiB or more (so large messages are copied out one by one),
   * raise glibc's malloc thresholds once per process (`mallopt`, see `@rxipc/native`) so that
   * each copy lands in reused, warm memory rather than fresh pages. Process-wide: freed
   * memory up to 256 MiB stays with the process. Default `true`.
   */
  readonly tuneMalloc?: boolean;
}

/** The options an `shm:` URI may carry (besides the channel's own). */
export const SHM_RING_OPTIONS = [
  'slots',
  'slotSize',
  'create',
  'mode',
  'zeroCopy',
  'zeroCopyMinSize',
  'spinMicros',
  'livenessMs',
  'readyTimeoutMs',
  'tuneMalloc',
] as const;

/** The longest `readyTimeoutMs`: a minute (a live creator needs microseconds). */
export const MAX_READY_TIMEOUT_MS = 60_000;

/** Parses the body and options of an `shm:` URI. */
export function parseShmRingUri(parts: UriParts): Parsed<ShmRingEndpoint> {
  const problems = shmNameProblems(parts.body);
  return pipe(
    sequenceS(validation)({
      name: problems.length === 0 ? E.right(parts.body) : E.left(problems),
      slots: intParam(parts, 'slots', 1, 2 ** 20),
      slotSize: intParam(parts, 'slotSize', 1, 2 ** 28),
      create: oneOfParam(parts, 'create', ['auto', 'never', 'always'] as const),
      mode: modeParam(parts),
      zeroCopy: boolParam(parts, 'zeroCopy'),
      zeroCopyMinSize: intParam(parts, 'zeroCopyMinSize', 0, 2 ** 30),
      spinMicros: intParam(parts, 'spinMicros', 0, 10_000),
      livenessMs: intParam(parts, 'livenessMs', 1, 60_000),
      readyTimeoutMs: intParam(parts, 'readyTimeoutMs', 0, MAX_READY_TIMEOUT_MS),
      tuneMalloc: boolParam(parts, 'tuneMalloc'),
    }),
    E.map((endpoint) => defined(endpoint) as ShmRingEndpoint),
  );
}
