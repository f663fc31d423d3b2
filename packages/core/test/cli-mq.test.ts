import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

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

const names: string[] = [];
const keys: number[] = [];
afterEach(() => {
  for (const name of names.splice(0)) {
    try {
      native.mqUnlink(name);
    } catch {
      // gone
    }
  }
  for (const key of keys.splice(0)) {
    try {
      const queue = native.msgget(key);
      native.msgRmid(queue);
      native.msgClose(queue);
    } catch {
      // gone
    }
  }
});

function queueName(): string {
  const name = `/rxipc-test-${process.pid}-cli-${names.length}`;
  names.push(name);
  return name;
}

function sysvKey(): string {
  const key = (0x7d000000 | ((process.pid & 0xffff) << 8) | keys.length) >>> 0;
  keys.push(key);
  return `0x${key.toString(16)}`;
}

describe('rxipc tap and send on message queues', () => {
  it('send leaves messages in a POSIX queue (persist=true) and tap reads them', async () => {
    const name = queueName();
    const sent = await sh(`rxipc send 'mq:${name}?maxmsg=10&msgsize=64&persist=true' one 'two 2'`);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const tapped = await sh(`rxipc tap 'mq:${name}' --count 2`);
    expect(tapped).toMatchObject({ code: 0, stdout: 'one\ntwo 2\n' });
  });

  it('tap shows the messages send delivers to an existing queue, live', async () => {
    const name = queueName();
    // The queue exists first (created here), so neither command owns it.
    native.fdClose(native.mqOpen(name, { read: true, create: true, maxmsg: 10, msgsize: 64 }));
    const result = await sh(
      `rxipc tap 'mq:${name}' --count 3 --format hex & sleep 1; seq 3 | rxipc send 'mq:${name}'; wait`,
    );
    expect(result).toMatchObject({ code: 0, stdout: '31\n32\n33\n' });
  });

  it('send and tap work on a System V queue, tap selecting one type', async () => {
    const key = sysvKey();
    expect(await sh(`rxipc send 'sysv-mq:${key}?type=2&persist=true' skipped`)).toMatchObject({
      code: 0,
    });
    expect(await sh(`rxipc send 'sysv-mq:${key}?type=5' wanted`)).toMatchObject({ code: 0 });
    const tapped = await sh(`rxipc tap 'sysv-mq:${key}?msgtyp=5' --count 1`);
    expect(tapped).toMatchObject({ code: 0, stdout: 'wanted\n' });
    expect(await sh(`rxipc tap 'sysv-mq:${key}' --count 1`)).toMatchObject({
      stdout: 'skipped\n',
    });
  });

  it('a missing queue is one line on stderr naming the cause', async () => {
    const result = await sh(`rxipc tap 'mq:${queueName()}?create=false'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^rxipc: ENOENT: no such file or directory, mq_open '\/rxipc-test-/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
