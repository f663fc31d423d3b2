import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';

import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

import { native } from '@rxipc/native';

import {
  listNamedObjects,
  memfdShm,
  memfdShmFromFd,
  posixShm,
  sysvShm,
  takeFds,
  unixSocket,
  withFds,
} from '../src/index.js';
import { existingShm, removeShm, shmName, trackSysvId, tsFixtureArgs } from './shm-support.js';

afterEach(removeShm);

const run = promisify(execFile);

/** Runs the child fixture and returns the JSON line it printed. */
async function child<T>(args: string[], options: { fds?: number[] } = {}): Promise<T> {
  const proc = spawn(process.execPath, [...tsFixtureArgs('shm-child.mts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.fds ?? [])],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (code !== 0) throw new Error(`the child exited with ${code}: ${err}`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

describe('posixShm', () => {
  it('creates a segment with mode 0600, exclusively, and removes it on close', () => {
    const name = shmName();
    const segment = posixShm({ name, size: 10_000 });
    try {
      expect(segment).toMatchObject({ kind: 'posix', name, size: 10_000, created: true });
      expect(statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600);
      expect(() => posixShm({ name, size: 10_000 })).toThrow(
        expect.objectContaining({ code: 'EEXIST', syscall: 'shm_open', path: name }),
      );
      expect(listNamedObjects().some((o) => o.kind === 'posix-shm' && o.name === name)).toBe(true);
    } finally {
      segment.close();
    }
    expect(existingShm()).toEqual([]);
    expect(listNamedObjects().some((o) => o.name === name)).toBe(false);
  });

  it('shares memory without copying: a write through one mapping is read through another', () => {
    const name = shmName();
    const writer = posixShm({ name, size: 4096 });
    const reader = posixShm({ name });
    try {
      expect(reader.created).toBe(false);
      expect(reader.size).toBe(4096);
      writer.bytes.set([1, 2, 3], 100);
      expect([...reader.bytes.subarray(100, 103)]).toEqual([1, 2, 3]);
      Atomics.store(new Int32Array(reader.buffer), 7, 42);
      expect(new Int32Array(writer.buffer)[7]).toBe(42);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('attaches an existing segment instead of failing when exclusive is false', () => {
    const name = shmName();
    const first = posixShm({ name, size: 4096 });
    const second = posixShm({ name, size: 4096, exclusive: false });
    try {
      expect(second.created).toBe(false);
    } finally {
      second.close();
      first.close();
    }
  });

  it('keeps a segment it created after close with persist', () => {
    const name = shmName();
    posixShm({ name, size: 4096, persist: true }).close();
    expect(existingShm()).toEqual([name]);
  });

  it('reports a missing segment as ENOENT with the name and a hint', () => {
    const name = shmName();
    expect(() => posixShm({ name })).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        errno: -2,
        syscall: 'shm_open',
        path: name,
        message: expect.stringMatching(/^ENOENT: .*shm_open '.*' \(no segment of this name/),
      }),
    );
  });

  it('refuses to map more than the segment holds, before mapping anything', () => {
    const name = shmName();
    const segment = posixShm({ name, size: 4096 });
    try {
      expect(() => posixShm({ name, size: 8192, create: false })).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }),
      );
    } finally {
      segment.close();
    }
  });

  it('refuses malformed names with a TypeError that says what a name is', () => {
    for (const bad of ['no-slash', '/a/b', '/', `/${'x'.repeat(300)}`]) {
      expect(() => posixShm({ name: bad, size: 1 })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' }),
      );
    }
  });

  it('detaches its buffer on close, so no code can reach the unmapped memory', () => {
    const segment = posixShm({ name: shmName(), size: 8192 });
    const words = new Int32Array(segment.buffer);
    segment.close();
    expect(segment.buffer.byteLength).toBe(0);
    expect(words.length).toBe(0);
    expect(() => Atomics.load(words, 0)).toThrow(TypeError);
    expect(segment.closed).toBe(true);
    segment.close(); // idempotent
  });

  it('gives a read-only opener a private view: its writes never reach the segment', () => {
    const name = shmName();
    const owner = posixShm({ name, size: 4096 });
    const viewer = posixShm({ name, readOnly: true });
    try {
      owner.bytes[0] = 7;
      expect(viewer.bytes[0]).toBe(7);
      viewer.bytes[1] = 9;
      expect(owner.bytes[1]).toBe(0);
    } finally {
      viewer.close();
      owner.close();
    }
  });

  it('is mapped by another process by name', async () => {
    const name = shmName();
    const segment = posixShm({ name, size: 4096 });
    try {
      Atomics.store(new Int32Array(segment.buffer), 0, 1234);
      const seen = await child<{ seen: number; size: number }>(['posix-attach', name]);
      expect(seen).toEqual({ seen: 1234, size: 4096 });
      expect(Atomics.load(new Int32Array(segment.buffer), 1)).toBe(1235);
    } finally {
      segment.close();
    }
  });
});

describe('native shmCopyOut', () => {
  it('copies a range of a mapping into a buffer of its own, checking the range first', () => {
    const name = shmName();
    const segment = posixShm({ name, size: 3 * 1024 * 1024 });
    const fd = native.shmOpen(name, { create: false });
    const mapping = native.shmMap(fd);
    native.fdClose(fd);
    try {
      const memory = new Uint8Array(segment.buffer);
      for (let j = 0; j < memory.length; j++) memory[j] = (j * 13 + (j >> 9)) & 0xff;
      // Small (memcpy) and larger than any L2 cache (non-temporal stores), at odd offsets.
      for (const [offset, length] of [
        [0, 0],
        [3, 100],
        [5, 2 * 1024 * 1024 + 7],
        [64, 1024 * 1024],
      ] as const) {
        const copy = native.shmCopyOut(mapping, offset, length);
        expect(copy.length).toBe(length);
        expect(copy.equals(memory.subarray(offset, offset + length))).toBe(true);
        copy[0] = (copy[0]! + 1) & 0xff; // its own memory: the segment does not change
        if (length > 0) expect(memory[offset]).not.toBe(copy[0]);
      }
      expect(() => native.shmCopyOut(mapping, 3 * 1024 * 1024 - 10, 11)).toThrow(RangeError);
      expect(() => native.shmCopyOut(mapping, -1, 1)).toThrow(RangeError);
    } finally {
      native.shmUnmap(mapping);
      segment.close();
    }
    expect(() => native.shmCopyOut(mapping, 0, 1)).toThrow();
  });
});

describe('memfdShm', () => {
  it('seals its size: nobody can shrink or grow it', () => {
    const segment = memfdShm({ size: 4096 });
    try {
      expect(native.memfdGetSeals(segment.fd)).toMatchObject({
        shrink: true,
        grow: true,
        seal: true,
      });
      expect(() => native.shmTruncate(segment.fd, 0)).toThrow(
        expect.objectContaining({ code: 'EPERM', syscall: 'ftruncate' }),
      );
      expect(() => native.shmTruncate(segment.fd, 8192)).toThrow(
        expect.objectContaining({ code: 'EPERM' }),
      );
    } finally {
      segment.close();
    }
    expect(native.fdNumber(segment.fd)).toBe(-1);
  });

  it('is shared with a child that inherits the descriptor, which cannot shrink it', async () => {
    const segment = memfdShm({ size: 8192 });
    try {
      Atomics.store(new Int32Array(segment.buffer), 0, 77);
      const seen = await child<{ seen: number; size: number; shrink: string }>(['memfd-inherit'], {
        fds: [native.fdNumber(segment.fd)],
      });
      expect(seen).toEqual({ seen: 77, size: 8192, shrink: 'EPERM' });
      expect(Atomics.load(new Int32Array(segment.buffer), 1)).toBe(78);
    } finally {
      segment.close();
    }
  });

  it('travels over a Unix socket (SCM_RIGHTS) and maps to the same memory', async () => {
    const segment = memfdShm({ size: 4096 });
    const [a, b] = native.socketpair('seqpacket');
    const sender = unixSocket({ type: 'seqpacket', handle: a });
    const receiver = unixSocket({ type: 'seqpacket', handle: b, maxFds: 1 });
    try {
      segment.bytes[10] = 99;
      const arrived = firstValueFrom(receiver);
      await sender.send(withFds(new Uint8Array([1]), [segment.fd]));
      const [fd] = takeFds(await arrived);
      const received = memfdShmFromFd(fd!);
      try {
        expect(native.fdNumber(received.fd)).not.toBe(native.fdNumber(segment.fd));
        expect(received.bytes[10]).toBe(99);
        received.bytes[11] = 55;
        expect(segment.bytes[11]).toBe(55);
      } finally {
        received.close();
      }
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
      segment.close();
    }
  });

  it('refuses an unsealed descriptor unless told it may', () => {
    const fd = native.memfdCreate('unsealed');
    native.shmTruncate(fd, 4096);
    expect(() => memfdShmFromFd(fd)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_SHM_UNSEALED' }),
    );
    expect(native.fdNumber(fd)).toBe(-1); // refused: the segment took it and closed it
    const again = native.memfdCreate('unsealed');
    native.shmTruncate(again, 4096);
    const segment = memfdShmFromFd(again, { requireSealed: false });
    expect(segment.size).toBe(4096);
    segment.close();
  });
});

describe('sysvShm', () => {
  it('creates a private segment, records it, and removes it on close', () => {
    const segment = sysvShm({ size: 65536 });
    trackSysvId(segment.id);
    const stat = segment.stat();
    expect(stat).toMatchObject({ size: 65536, attachments: 1, mode: 0o600, removed: false });
    expect(
      listNamedObjects().some((o) => o.kind === 'sysv-shm' && o.name === `id:${segment.id}`),
    ).toBe(true);
    segment.close();
    expect(() => native.sysvShmOpenId(segment.id)).toThrow(
      expect.objectContaining({ syscall: 'shmctl' }),
    );
    expect(listNamedObjects().some((o) => o.name === `id:${segment.id}`)).toBe(false);
  });

  it('is marked for removal as soon as every party has attached', async () => {
    const segment = sysvShm({ size: 4096, parties: 2 });
    trackSysvId(segment.id);
    try {
      expect(segment.stat().removed).toBe(false);
      Atomics.store(new Int32Array(segment.buffer), 0, 5);
      const seen = await child<{ seen: number; removed: boolean }>([
        'sysv-attach',
        String(segment.id),
      ]);
      expect(seen).toMatchObject({ seen: 5, removed: true });
      expect(segment.stat().removed).toBe(true);
      expect(Atomics.load(new Int32Array(segment.buffer), 1)).toBe(6);
    } finally {
      segment.close();
    }
    // Removed and detached by everyone: gone.
    const { stdout } = await run('ipcs', ['-m', '-i', String(segment.id)]).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stderr ?? '' }),
    );
    expect(stdout).not.toMatch(/shmid=/);
  });

  it('attaches by key, and reports a missing key as ENOENT with the key', () => {
    const key = 0x7e500000 | (process.pid & 0xffff);
    expect(() => sysvShm({ key })).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'shmget', path: `0x${key.toString(16)}` }),
    );
    const created = sysvShm({ key, size: 4096 });
    trackSysvId(created.id);
    const attached = sysvShm({ key });
    try {
      expect(attached.id).toBe(created.id);
      created.bytes[0] = 3;
      expect(attached.bytes[0]).toBe(3);
    } finally {
      attached.close();
      created.close();
    }
  });
});
