import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';

import { jsonCodec, rawCodec, utf8Codec, v8Codec } from '../src/codecs/index.js';

const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3]);

describe('codecs', () => {
  it('round-trips each kind of value', () => {
    expect(E.getOrElseW(() => null)(utf8Codec.decode(utf8Codec.encode('héllo ✓')))).toBe('héllo ✓');
    expect(
      E.getOrElseW(() => null)(jsonCodec.decode(jsonCodec.encode({ a: [1, 'b', null] }))),
    ).toEqual({
      a: [1, 'b', null],
    });
    const value = { m: new Map([[1, new Set(['x'])]]), d: new Date(0), n: 10n };
    expect(E.getOrElseW(() => null)(v8Codec.decode(v8Codec.encode(value)))).toEqual(value);
    const raw = new Uint8Array([1, 2]);
    expect(rawCodec.encode(raw)).toBe(raw);
  });

  it('returns a Left, never throws, on bytes that do not decode', () => {
    for (const codec of [utf8Codec, jsonCodec, v8Codec]) {
      const result = codec.decode(garbage);
      expect(E.isLeft(result)).toBe(true);
      if (E.isLeft(result)) expect(result.left).toMatchObject({ code: 'ERR_RXIPC_DECODE' });
    }
  });

  it('throws EncodeError for values it cannot represent', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => jsonCodec.encode(cycle)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_ENCODE' }),
    );
    expect(() => jsonCodec.encode(undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_ENCODE' }),
    );
    expect(() => v8Codec.encode(() => 1)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_ENCODE' }),
    );
    expect(() => utf8Codec.encode(5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_ENCODE' }),
    );
  });
});
