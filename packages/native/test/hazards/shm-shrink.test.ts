import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killChildren, lastJson, runChild } from '../support/child.js';

afterEach(killChildren);

describe('a peer that shrinks a shared-memory segment', () => {
  it('cannot shrink a sealed memfd: the mapping stays whole', async () => {
    const result = await runChild(fixture('shm-shrink.mjs'), { args: ['sealed'] });
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(lastJson(result)).toEqual({ mode: 'sealed', code: 'EPERM', last: 1, size: 1 << 20 });
  });

  it('makes mapping refuse the lost range with a RangeError, never a SIGBUS', async () => {
    const result = await runChild(fixture('shm-shrink.mjs'), { args: ['before-mapping'] });
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(lastJson(result)).toEqual({
      mode: 'before-mapping',
      error: {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: expect.stringContaining('mapping past its end would raise SIGBUS'),
      },
      length: 4096,
    });
  });

  it('can still kill a process with SIGBUS after it mapped an unsealed named segment (the documented residual risk)', async () => {
    const result = await runChild(fixture('shm-shrink.mjs'), { args: ['after-mapping'] });
    expect(result).toMatchObject({ code: null, signal: 'SIGBUS' });
    expect(result.stdout).toContain('"touching":true');
    expect(result.stdout).not.toContain('survived');
  });
});
