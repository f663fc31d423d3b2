import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { open, posixShm } from '../src/index.js';
import { cleanUpAfterEach, cProgram, shmName } from './shm-support.js';

const run = promisify(execFile);
const python = fileURLToPath(new URL('./fixtures/shm-python.py', import.meta.url));
// The bench's C ring: the same protocol, driven by plain C (packages/core/bench-c).
const C_RING = '../../core/bench-c/shm-ring.c';

const { children, channels } = cleanUpAfterEach();

/** Starts `command`, resolving `ready` at its first stdout line, `done` with all of stdout. */
function start(
  command: string,
  args: string[],
): {
  child: ChildProcess;
  ready: Promise<string>;
  done: Promise<string>;
} {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  let markReady: (line: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (markReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('\n')) markReady(out.slice(0, out.indexOf('\n')));
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<string>((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}: ${err}`)),
    ),
  );
  return { child, ready, done };
}

describe('shared-memory interop', () => {
  it('Python reads and writes a segment rxipc created, and leaves it in place', async () => {
    const name = shmName();
    const segment = posixShm({ name, size: 4096 });
    try {
      segment.bytes.set(new TextEncoder().encode('made by rxipc'));
      const { stdout } = await run('python3', [python, 'attach', name]);
      expect(JSON.parse(stdout)).toEqual({ size: 4096, first: 'made by rxip' });
      expect(new TextDecoder().decode(segment.bytes.subarray(16, 27))).toBe('from Python');
      // Python's resource tracker did not unlink it at exit: the script unregistered it.
      expect(existsSync(`/dev/shm${name}`)).toBe(true);
    } finally {
      segment.close();
    }
    expect(existsSync(`/dev/shm${name}`)).toBe(false);
  });

  it('rxipc reads and writes a segment Python created', async () => {
    const name = shmName();
    const peer = start('python3', [python, 'create', name]);
    expect(JSON.parse(await peer.ready)).toEqual({ ready: true });
    const segment = posixShm({ name });
    try {
      expect(segment.size).toBe(4096);
      expect(new TextDecoder().decode(segment.bytes.subarray(0, 14))).toBe('made by Python');
      segment.bytes.set(new TextEncoder().encode('made by rxipc'), 32);
    } finally {
      segment.close(); // not ours: only unmapped
    }
    peer.child.stdin!.end('go\n');
    const lines = (await peer.done).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ reply: 'made by rxipc' });
    expect(existsSync(`/dev/shm${name}`)).toBe(false); // Python unlinked its own
  });

  it('a C program maps the segment rxipc created and sees the same bytes', async () => {
    const name = shmName();
    const segment = posixShm({ name, size: 8192 });
    try {
      Atomics.store(new Int32Array(segment.buffer), 0, 21);
      segment.bytes.set(new TextEncoder().encode('hello C'), 64);
      const { stdout } = await run(cProgram('shm-peer'), [name]);
      expect(JSON.parse(stdout)).toEqual({ size: 8192, word: 21, text: 'hello C' });
      expect(Atomics.load(new Int32Array(segment.buffer), 1)).toBe(42);
      expect(new TextDecoder().decode(segment.bytes.subarray(128, 134))).toBe('from C');
    } finally {
      segment.close();
    }
  });

  it('a C reader drains a ring an rxipc channel writes, speaking the same protocol', async () => {
    const name = shmName();
    const reader = start(cProgram(C_RING), ['read', '20000', '100', name, '8', '1024']);
    expect(JSON.parse(await reader.ready)).toEqual({ event: 'ready' });
    const writer = open(`shm:${name}`);
    channels.add(writer);
    const message = new Uint8Array(100).fill(0x61);
    for (let i = 0; i < 20_000; i++) {
      if (writer.pending >= writer.highWaterMark) await writer.ready();
      writer.next(message);
    }
    writer.complete();
    const result = JSON.parse((await reader.done).trim().split('\n').at(-1)!) as {
      messages: number;
      bytes: number;
    };
    expect(result).toMatchObject({ messages: 20_000, bytes: 2_000_000 });
  });

  it('an rxipc channel drains a ring a C writer fills, until its end of stream', async () => {
    const name = shmName();
    const reader = open(`shm:${name}?slots=8&slotSize=1024`);
    channels.add(reader);
    const all = lastValueFrom(reader.pipe(toArray())); // creates the ring
    const writer = start(cProgram(C_RING), ['write', '20000', '300', name]);
    await writer.done;
    const messages = await all;
    expect(messages.length).toBe(20_000);
    expect(messages.every((m) => m.byteLength === 300 && m[0] === 0x61 && m[299] === 0x61)).toBe(
      true,
    );
  });
});
