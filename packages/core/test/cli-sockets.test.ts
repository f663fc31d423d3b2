import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const NODE = [process.execPath, '--import', 'tsx', '--conditions=@rxipc/source', MAIN]
  .map((a) => `'${a}'`)
  .join(' ');
const FD_PEER = fileURLToPath(new URL('../../adapters/test/fixtures/fd-peer.c', import.meta.url));

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-cli-sockets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each shell line runs in a process group of its own, killed whole after each test: killing
// only the shell would leave its socat or cat running.
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  running.clear();
});

interface Run {
  readonly child: ChildProcess;
  readonly out: { stdout: string; stderr: string };
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts a shell line in which `rxipc` is the CLI from source. */
function start(line: string): Run {
  const child = spawn('/bin/sh', ['-c', line.replaceAll('rxipc ', `${NODE} `)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, ...out })),
  );
  return { child, out, done };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `rxipc tap --listen URI --count N`, resolved once it listens. */
async function tapListening(uri: string, count: number): Promise<Run> {
  const tap = start(`rxipc tap --listen '${uri}' --count ${count}`);
  await until(() => tap.out.stderr.includes('listening on'), 'tap to listen');
  return tap;
}

let n = 0;
const fresh = (suffix = 'sock'): string => path.join(dir, `e-${++n}.${suffix}`);

describe('rxipc tap --listen and rxipc send on sockets, FIFOs and TCP', () => {
  it('taps a unix stream socket that socat writes lines into, and says who connected', async () => {
    const where = fresh();
    const tap = await tapListening(`unix:${where}?framing=line`, 2);
    start(`printf 'one\\ntwo\\n' | socat -u - UNIX-CONNECT:'${where}'`);
    const result = await tap.done;
    expect(result).toMatchObject({ code: 0, stdout: 'one\ntwo\n' });
    expect(result.stderr).toMatch(/rxipc: pid \d+ \(uid \d+, gid \d+\) connected/);
    expect(existsSync(where)).toBe(false);
  });

  it('taps a datagram socket that socat sends to, one line per datagram', async () => {
    const where = fresh();
    const tap = await tapListening(`unix-dgram:${where}`, 2);
    start(
      `echo first | socat -u - UNIX-SENDTO:'${where}'; echo second | socat -u - UNIX-SENDTO:'${where}'`,
    );
    expect(await tap.done).toMatchObject({ code: 0, stdout: 'first\n\nsecond\n\n' });
  });

  it('sends seqpacket messages that tap --listen prints, in hex', async () => {
    const where = fresh();
    const tap = start(`rxipc tap --listen 'unix-seqpacket:${where}' --count 2 --format hex`);
    await until(() => tap.out.stderr.includes('listening on'), 'tap to listen');
    const send = await start(`rxipc send 'unix-seqpacket:${where}' AB cd`).done;
    expect(send.code).toBe(0);
    expect(await tap.done).toMatchObject({ code: 0, stdout: '4142\n6364\n' });
  });

  it('prints the message a C peer sends with a descriptor (the descriptor is dropped)', async () => {
    const where = fresh();
    const peer = path.join(dir, 'fd-peer');
    execFileSync('cc', ['-O2', '-o', peer, FD_PEER]);
    const tap = await tapListening(`unix-seqpacket:${where}`, 1);
    const sent = await start(`'${peer}' send seqpacket '${where}' /etc/hostname 'from C'`).done;
    expect(sent.code).toBe(0);
    expect(await tap.done).toMatchObject({ code: 0, stdout: 'from C\n' });
  });

  it('sends to, and taps from, a socat server on a unix stream socket', async () => {
    const where = fresh();
    const server = start(`socat -u UNIX-LISTEN:'${where}' -`);
    await until(() => existsSync(where), 'socat to listen');
    // A client may meet socat between its bind and its listen: send again if refused.
    let sent = await start(`rxipc send 'unix:${where}?framing=line' hello socat`).done;
    while (sent.code !== 0 && sent.stderr.includes('ECONNREFUSED')) {
      sent = await start(`rxipc send 'unix:${where}?framing=line' hello socat`).done;
    }
    expect(sent.code).toBe(0);
    expect((await server.done).stdout).toBe('hello\nsocat\n');

    const talker = fresh();
    start(`socat UNIX-LISTEN:'${talker}',fork SYSTEM:'echo greetings from socat'`);
    await until(() => existsSync(talker), 'socat to listen');
    let tapped = await start(`rxipc tap 'unix:${talker}?framing=line'`).done;
    while (tapped.code !== 0 && tapped.stderr.includes('ECONNREFUSED')) {
      tapped = await start(`rxipc tap 'unix:${talker}?framing=line'`).done;
    }
    expect(tapped).toMatchObject({ code: 0, stdout: 'greetings from socat\n' });
  });

  it('sends over TCP to tap --listen, with the port the kernel chose', async () => {
    const tap = await tapListening('tcp://127.0.0.1:0?framing=line', 2);
    const uri = /listening on (tcp:\S+)/.exec(tap.out.stderr)![1]!;
    const send = await start(`rxipc send '${uri}?framing=line' over tcp`).done;
    expect(send.code).toBe(0);
    expect(await tap.done).toMatchObject({ code: 0, stdout: 'over\ntcp\n' });
  });

  it('taps a FIFO that echo writes to, and sends into one that cat reads', async () => {
    const fifo = fresh('fifo');
    const tap = start(`rxipc tap 'fifo:${fifo}?framing=line'`);
    await until(() => existsSync(fifo), 'tap to make the FIFO');
    start(`{ echo from; echo echo; } > '${fifo}'`);
    expect(await tap.done).toMatchObject({ code: 0, stdout: 'from\necho\n' });
    expect(existsSync(fifo)).toBe(false); // tap made it, tap removed it

    const other = fresh('fifo');
    execFileSync('mkfifo', [other]);
    const cat = start(`cat '${other}'`);
    const send = await start(`rxipc send 'fifo:${other}?framing=line' to cat`).done;
    expect(send.code).toBe(0);
    expect(await cat.done).toMatchObject({ code: 0, stdout: 'to\ncat\n' });
    expect(existsSync(other)).toBe(true); // made by mkfifo, not by rxipc: left alone
  });

  it('refuses --listen on a scheme that has no peers, in one line', async () => {
    const result = await start(`rxipc tap --listen 'fifo:${fresh('fifo')}'`).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^rxipc: fifo: cannot listen/);
  });
});
