import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

describe('a mapped segment dropped by the program', () => {
  it('is unmapped by the garbage collector, which detaches its ArrayBuffer first', async () => {
    const result = await runChild(fixture('shm-gc.mjs'), { execArgv: ['--expose-gc'] });
    expect(result).toMatchObject({ code: 0, signal: null, timedOut: false, stderr: '' });
    expect(lastJson(result)).toEqual({
      before: { byteLength: 1 << 20, first: 42 },
      after: { byteLength: 0, length: 0 },
      threw: 'TypeError',
      mappedBefore: 1,
      mappedAfter: 0,
    });
  });
});
