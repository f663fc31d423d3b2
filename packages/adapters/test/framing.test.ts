import { describe, expect, it } from 'vitest';

import { FrameTooLargeError, TruncatedFrameError } from '../src/errors.js';
import { lengthPrefixed } from '../src/framing/length-prefixed.js';
import { lineFraming } from '../src/framing/line.js';
import { rawFraming } from '../src/framing/raw.js';
import type { FrameDecoder, Framing } from '../src/framing/framing.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

/** Feeds `chunks` through a decoder and collects every frame, as the transport does. */
function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next())
      frames.push(frame);
  }
  const last = decoder.end();
  if (last !== undefined) frames.push(last);
  return frames;
}

function encode(framing: Framing, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(
    framing.prefixLength + payload.byteLength + framing.suffix.byteLength,
  );
  framing.writePrefix(frame, 0, payload.byteLength);
  frame.set(payload, framing.prefixLength);
  frame.set(framing.suffix, framing.prefixLength + payload.byteLength);
  return frame;
}

describe('length-prefixed framing', () => {
  it('writes the length as four big-endian bytes, as htonl does', () => {
    expect([...encode(lengthPrefixed, bytes(7, 8, 9))]).toEqual([0, 0, 0, 3, 7, 8, 9]);
    const big = new Uint8Array(4);
    lengthPrefixed.writePrefix(big, 0, 0x01020304);
    expect([...big]).toEqual([1, 2, 3, 4]);
  });

  it('reassembles a frame split across two chunks', () => {
    const frames = decodeAll(lengthPrefixed.decoder(100), [bytes(0, 0, 0, 3, 1), bytes(2, 3)]);
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3]]);
  });

  it('reassembles a length prefix split across chunks, one byte at a time', () => {
    const stream = [...encode(lengthPrefixed, bytes(5, 6)), ...encode(lengthPrefixed, bytes())];
    const frames = decodeAll(
      lengthPrefixed.decoder(100),
      stream.map((b) => bytes(b)),
    );
    expect(frames.map((f) => [...f])).toEqual([[5, 6], []]);
  });

  it('cuts many frames out of one chunk as views, without copying', () => {
    const chunk = new Uint8Array([
      ...encode(lengthPrefixed, bytes(1)),
      ...encode(lengthPrefixed, bytes(2, 2)),
    ]);
    const frames = decodeAll(lengthPrefixed.decoder(100), [chunk]);
    expect(frames.map((f) => [...f])).toEqual([[1], [2, 2]]);
    expect(frames.every((frame) => frame.buffer === chunk.buffer)).toBe(true);
  });

  it('turns a hostile length into FrameTooLargeError before allocating anything', () => {
    const decoder = lengthPrefixed.decoder(1024);
    decoder.push(bytes(0xff, 0xff, 0xff, 0xff, 1, 2));
    expect(() => decoder.next()).toThrow(FrameTooLargeError);
    expect(() => decoder.next()).toThrow(/4294967295 bytes, above maxFrameSize 1024/);
  });

  it('offers the rest of a large frame as a direct read target, then returns it whole', () => {
    const decoder = lengthPrefixed.decoder(1 << 20);
    const payload = Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff);
    const frame = encode(lengthPrefixed, payload);
    decoder.push(frame.subarray(0, 1000));
    expect(decoder.next()).toBeUndefined();
    const target = decoder.directTarget!()!;
    expect(target.byteLength).toBe(40_000 - 996);
    target.set(frame.subarray(1000));
    decoder.filled!(target.byteLength);
    expect(decoder.directTarget!()).toBeUndefined();
    expect(decoder.next()).toEqual(payload);
  });

  it('reports a stream that ends inside a frame', () => {
    const decoder = lengthPrefixed.decoder(100);
    expect(() => decodeAll(decoder, [bytes(0, 0, 0, 9, 1, 2)])).toThrow(TruncatedFrameError);
  });

  it('refuses to send a payload larger than maxFrameSize', () => {
    expect(() => lengthPrefixed.check(new Uint8Array(11), 10)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_FRAME_TOO_LARGE' }),
    );
  });
});

describe('line framing', () => {
  it('splits on newlines and joins a line split across chunks', () => {
    const frames = decodeAll(lineFraming.decoder(100), [text('ab\ncd'), text('e\n\nf')]);
    expect(frames.map((f) => new TextDecoder().decode(f))).toEqual(['ab', 'cde', '', 'f']);
  });

  it('keeps a carriage return, which belongs to the payload', () => {
    const frames = decodeAll(lineFraming.decoder(100), [text('a\r\n')]);
    expect([...frames[0]!]).toEqual([0x61, 0x0d]);
  });

  it('errors on a line longer than maxFrameSize, even when it arrives in pieces', () => {
    const decoder = lineFraming.decoder(4);
    decoder.push(text('abc'));
    expect(decoder.next()).toBeUndefined();
    decoder.push(text('def'));
    expect(() => decoder.next()).toThrow(FrameTooLargeError);
  });

  it('refuses to send a payload that contains a newline', () => {
    expect(() => lineFraming.check(text('a\nb'), 100)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_FRAMING' }),
    );
  });
});

describe('raw framing', () => {
  it('passes chunks through as they come', () => {
    const frames = decodeAll(rawFraming.decoder(100), [text('ab'), text('c')]);
    expect(frames.map((f) => new TextDecoder().decode(f))).toEqual(['ab', 'c']);
  });
});
