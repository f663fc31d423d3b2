import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';

import { defineAdapter, open, registerAdapter } from '../src/index.js';

describe('open', () => {
  it('reports every problem of a URI at once, in one TypeError', () => {
    let error: unknown;
    try {
      open('fd:abc?highWaterMark=0&codec=yaml&bogus=1');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    const problems = (error as { problems: string[] }).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/unknown option bogus/);
    expect(problems.join('\n')).toMatch(/highWaterMark must be an integer from 1/);
    expect(problems.join('\n')).toMatch(/codec must be one of raw, utf8, json, v8/);
    expect(problems.join('\n')).toMatch(/fd: takes a descriptor number/);
  });

  it('names the known schemes when the scheme is unknown', () => {
    expect(() => open('nope:x')).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_UNKNOWN_SCHEME' }),
    );
    expect(() => open('nope:x')).toThrow(/fd:, pipe:/);
  });

  it('rejects things that are not URIs', () => {
    expect(() => open('no scheme')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => open(42 as never)).toThrow(TypeError);
    expect(() => open('fd:1?' + 'a=1&'.repeat(2000))).toThrow(/at most 4096/);
  });

  it('lets a plugin add a scheme and get codecs and flow control for free', async () => {
    const sent: Uint8Array[] = [];
    registerAdapter(
      defineAdapter({
        scheme: 'test-sink',
        kind: 'message',
        description: 'collects what is sent',
        parse: () => E.right({}),
        connect: () => ({
          maxMessageSize: 1024,
          check() {},
          receive: () => null,
          watchReadable() {},
          send(messages, start, end) {
            sent.push(...messages.slice(start, end));
            return end - start;
          },
          watchWritable() {},
          close() {},
        }),
      }),
    );
    const channel = open('test-sink:?codec=json');
    await channel.send({ hello: 'world' } as never);
    expect(new TextDecoder().decode(sent[0])).toBe('{"hello":"world"}');
    await channel.close();
    expect(() => registerAdapter(defineAdapter({ scheme: 'test-sink' } as never))).toThrow(
      /already registered/,
    );
  });
});
