/**
 * Inverts a frame (every byte `255 - b`) and returns it with a checksum of the result. Frames
 * are 1 MiB `Uint8Array`s; they cross the process boundary through a shared-memory ring.
 */
import { defineStage } from '@rxipc/core';

export interface Frame {
  readonly index: number;
  readonly pixels: Uint8Array;
}

export interface Inverted extends Frame {
  readonly checksum: number;
  readonly replica: number;
}

export default defineStage({
  map({ index, pixels: received }: Frame, context): Inverted {
    const pixels = aligned(received);
    const out = new Uint8Array(pixels.length);
    // Eight bytes at a time: the work is memory-bound, as real frame filters are.
    const words = Math.floor(pixels.length / 8);
    const from = new BigUint64Array(pixels.buffer, pixels.byteOffset, words);
    const to = new BigUint64Array(out.buffer, 0, words);
    for (let i = 0; i < words; i++) to[i] = ~from[i]! & 0xffffffffffffffffn;
    for (let i = words * 8; i < pixels.length; i++) out[i] = 255 - pixels[i]!;
    return { index, pixels: out, checksum: checksum(out), replica: context.replica };
  },
});

/** A cheap checksum (sum of 32-bit words, mod 2^32) that both sides compute alike. */
export function checksum(received: Uint8Array): number {
  const bytes = aligned(received);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
  let sum = 0;
  for (let i = 0; i < words.length; i++) sum = (sum + words[i]!) >>> 0;
  return sum;
}

/** `bytes`, copied if needed so that 8-byte words can view it (a decoded message may be a view). */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}
