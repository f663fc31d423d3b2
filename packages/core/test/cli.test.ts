import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const NODE = [process.execPath, '--import', 'tsx', '--conditions=@rxipc/source', MAIN]
  .map((a) => `'${a}'`)
  .join(' ');

/** Runs a shell command line in which `rxipc` is the CLI from source. */
function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', line.replaceAll('rxipc ', `${NODE} `)],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('rxipc tap and send', () => {
  it('tap prints each line of a shell pipe as a message', async () => {
    const result = await sh(`seq 1 5 | rxipc tap 'fd:0?framing=line'`);
    expect(result).toMatchObject({ code: 0, stdout: '1\n2\n3\n4\n5\n' });
  });

  it('tap stops after --count messages and prints hex', async () => {
    const result = await sh(
      `printf 'ab\\ncd\\nef\\n' | rxipc tap 'fd:0?framing=line' --count 2 --format hex`,
    );
    expect(result).toMatchObject({ code: 0, stdout: '6162\n6364\n' });
  });

  it('tap --format json prints each message as compact JSON', async () => {
    const result = await sh(
      `printf '{ "a" : 1 }\\n' | rxipc tap 'fd:0?framing=line' --format json`,
    );
    expect(result.stdout).toBe('{"a":1}\n');
  });

  it('send writes its arguments, and tap reads them back through a pipe', async () => {
    const result = await sh(`rxipc send fd:1 hello 'two words' | rxipc tap fd:0`);
    expect(result).toMatchObject({ code: 0, stdout: 'hello\ntwo words\n' });
  });

  it('send forwards stdin lines when no message is given', async () => {
    const result = await sh(`seq 1 1000 | rxipc send 'fd:1?framing=line' | tail -n 1`);
    expect(result).toMatchObject({ code: 0, stdout: '1000\n' });
  });

  it('a bad URI is one line on stderr and a non-zero exit, never a stack trace', async () => {
    const result = await sh(`rxipc tap 'fd:x?bogus=1'`);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^rxipc: invalid endpoint "fd:x\?bogus=1": unknown option bogus/);
  });

  it('a missing descriptor is one line naming the system error', async () => {
    const result = await sh(`rxipc tap fd:987654`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^rxipc: EBADF: bad file descriptor, fcntl/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown command or option says so in one line', async () => {
    expect((await sh(`rxipc frobnicate`)).stderr).toMatch(/^rxipc: unknown command "frobnicate"/);
    const badFlag = await sh(`rxipc tap fd:0 --colour`);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/^rxipc: tap: Unknown option '--colour'/);
    expect((await sh(`rxipc tap --help`)).stdout).toMatch(/usage: rxipc tap <uri>/);
  });
});
