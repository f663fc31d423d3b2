import { describe, expect, it } from 'vitest';

import { fifo, listen, open, tcp, unixSocket } from '../src/index.js';

/** The InvalidUriError a call throws, at call time. */
function problemOf(call: () => unknown): { code?: string; message: string } {
  try {
    call();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the call to throw');
}

describe('FIFO, Unix socket and TCP endpoint URIs', () => {
  it('lists every problem of a fifo: URI at once', () => {
    const error = problemOf(() => open('fifo:?mode=999&reopen=perhaps&colour=blue'));
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.message).toContain('fifo: needs a path');
    expect(error.message).toContain('option mode must be an octal mode');
    expect(error.message).toContain('option reopen must be true or false');
    expect(error.message).toContain('unknown option colour');
  });

  it('refuses a unix: URI with both a path and an inherited descriptor, or a path too long', () => {
    expect(problemOf(() => open('unix:/tmp/a.sock?fd=3')).message).toContain('not both');
    const long = `/tmp/${'x'.repeat(120)}.sock`;
    expect(problemOf(() => open(`unix:${long}`)).message).toContain('at most 107 bytes');
    expect(problemOf(() => open('unix:@')).message).toContain('an abstract name is 1 to 107');
  });

  it('takes the options of each socket type, and no others', () => {
    expect(problemOf(() => open('unix:/tmp/a.sock?maxMessageSize=10')).message).toContain(
      'unknown option maxMessageSize',
    );
    expect(problemOf(() => open('unix-seqpacket:/tmp/a.sock?eof=empty')).message).toContain(
      'unknown option eof',
    );
    expect(problemOf(() => open('unix-dgram:/tmp/a.sock?framing=line')).message).toContain(
      'unknown option framing',
    );
    expect(() =>
      open('unix-dgram:/tmp/a.sock?eof=empty&maxMessageSize=100&sndbuf=4096'),
    ).not.toThrow();
  });

  it('parses tcp://host:port, IPv6 literals included, and refuses a bad port or nodelay', () => {
    expect(() => open('tcp://127.0.0.1:7000?nodelay=false')).not.toThrow();
    expect(() => open('tcp://[::1]:7000')).not.toThrow();
    expect(problemOf(() => open('tcp://127.0.0.1:70000')).message).toContain(
      'port from 0 to 65535',
    );
    expect(problemOf(() => open('tcp://localhost?nodelay=2')).message).toMatch(
      /tcp: takes \/\/host:port.*option nodelay must be true or false/,
    );
  });

  it('says which schemes cannot listen, and checks listen options', () => {
    expect(problemOf(() => listen('fifo:/tmp/x'))).toMatchObject({
      code: 'ERR_RXIPC_CANNOT_LISTEN',
    });
    expect(problemOf(() => listen('unix:/tmp/x.sock?allowUid=me')).message).toContain(
      'option allowUid must be a comma-separated list of numeric ids',
    );
    expect(problemOf(() => open('unix:/tmp/x.sock?allowUid=1000')).message).toContain(
      'unknown option allowUid',
    );
  });

  it('checks the typed creation functions at call time', () => {
    expect(problemOf(() => fifo('unix:/tmp/x')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(problemOf(() => unixSocket({ path: '/a', name: 'b' })).message).toContain(
      'exactly one of path, name and handle',
    );
    expect(problemOf(() => tcp({ host: '', port: 80 })).message).toContain('needs a host');
    expect(problemOf(() => fifo({ path: '/tmp/f', mode: 0o1777 })).message).toContain('mode');
  });
});
