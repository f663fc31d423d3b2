/**
 * `node --import tsx --conditions=@rxipc/source main.ts [--frames N] [--replicas N] [--json]`
 *
 * Makes N frames of 1 MiB, sends them to replicas of the invert stage through shared-memory
 * rings (one per replica, both directions), checks every frame that comes back, in order, and
 * reports the throughput.
 */
import { parseArgs } from 'node:util';

import { pipeline, stage } from '@rxipc/core';

import type * as Invert from './stages/invert.js';
import { checksum, type Frame } from './stages/invert.js';

const FRAME_BYTES = 1024 * 1024;

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '200' },
    replicas: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.frames);

/** Frames made on demand: the pipeline pulls the next one only when a ring has room. */
function* frames(): Generator<Frame> {
  for (let index = 0; index < count; index++) {
    const pixels = new Uint8Array(FRAME_BYTES);
    // A gradient that differs per frame, so that a mixed-up frame is caught.
    for (let i = 0; i < FRAME_BYTES; i += 4096) pixels.fill((index + i / 4096) & 0xff, i, i + 4096);
    yield { index, pixels };
  }
}

/** What `invert` should return for frame `index`: checked without keeping the frame. */
function expectedChecksum(index: number): number {
  const pixels = new Uint8Array(FRAME_BYTES);
  for (let i = 0; i < FRAME_BYTES; i += 4096)
    pixels.fill(255 - ((index + i / 4096) & 0xff), i, i + 4096);
  return checksum(pixels);
}

const invert = stage<typeof Invert>(new URL('./stages/invert.ts', import.meta.url), {
  replicas: Number(values.replicas),
  // Each slot holds one encoded frame: 1 MiB and a few bytes of envelope.
  transport: `shm?slots=4&slotSize=${FRAME_BYTES + 4096}`,
  window: 4,
});

const started = performance.now();
let received = 0;
let firstAt = 0;
const byReplica: number[] = [];
pipeline(frames(), invert).subscribe({
  next(frame) {
    if (received === 0) firstAt = performance.now();
    if (frame.index !== received)
      throw new Error(`frame ${frame.index} came in place of ${received}`);
    if (
      frame.checksum !== checksum(frame.pixels) ||
      frame.checksum !== expectedChecksum(frame.index)
    ) {
      throw new Error(`frame ${frame.index} is corrupt`);
    }
    byReplica[frame.replica] = (byReplica[frame.replica] ?? 0) + 1;
    received++;
  },
  error(error: Error) {
    process.stderr.write(`frames: ${error.message}\n`);
    process.exitCode = 1;
  },
  complete() {
    const seconds = (performance.now() - firstAt) / 1000;
    const result = {
      frames: received,
      inOrder: true,
      byReplica,
      seconds: Number(seconds.toFixed(3)),
      framesPerSecond: Math.round(received / seconds),
      megabytesPerSecond: Math.round((2 * received * FRAME_BYTES) / 1e6 / seconds),
      startupSeconds: Number(((firstAt - started) / 1000).toFixed(3)),
    };
    process.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `${received} frames of 1 MiB there and back, in order and intact, through ${byReplica.length} replicas (${byReplica.join(' + ')}): ${result.framesPerSecond} frames/s, ${result.megabytesPerSecond} MB/s both ways\n`,
    );
  },
});
