import { closeSync, openSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import {
  native,
  POLL_READABLE,
  POLL_WRITABLE,
  type FdHandle,
  type FdWatcherHandle,
} from '../src/index.js';

// Everything a test opens, closed afterwards even when the test failed.
const opened: Array<() => void> = [];
afterEach(() => {
  for (const close of opened.splice(0).reverse()) {
    try {
      close();
    } catch {
      // already closed by the test
    }
  }
});

function pipe(options?: { cloexec?: boolean; nonblock?: boolean }): [FdHandle, FdHandle] {
  const ends = native.pipe(options);
  opened.push(
    () => native.fdClose(ends[0]),
    () => native.fdClose(ends[1]),
  );
  return ends;
}

function watch(fd: FdHandle, callback: (status: number, events: number) => void): FdWatcherHandle {
  const watcher = native.fdWatch(fd, callback);
  opened.push(() => native.fdWatchClose(watcher));
  return watcher;
}

const bytes = (text: string): Buffer => Buffer.from(text);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

describe('errors', () => {
  it('names errnos, including the System V IPC ones Node lacks', () => {
    expect(native.errnoName(11)).toBe('EAGAIN');
    expect(native.errnoName(42)).toBe('ENOMSG');
    expect(native.errnoName(43)).toBe('EIDRM');
    expect(native.errnoName(95)).toBe('ENOTSUP');
    expect(native.errnoName(130)).toBe('EOWNERDEAD');
    expect(native.errnoName(131)).toBe('ENOTRECOVERABLE');
    expect(native.errnoName(-2)).toBe('ENOENT');
    expect(native.errnoName(0)).toBe('UNKNOWN');
    expect(native.errnoName(99999)).toBe('UNKNOWN');
  });

  it('builds system errors in Node’s shape, with the hint last', () => {
    const error = native.systemError(2, 'mq_open', '/jobs', 'create it first');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(
      "ENOENT: no such file or directory, mq_open '/jobs' (create it first)",
    );
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'mq_open', path: '/jobs' });
  });

  it('leaves out the path when none is given', () => {
    const error = native.systemError(43, 'msgrcv');
    expect(error.message).toBe('EIDRM: identifier removed, msgrcv');
    expect(error).toMatchObject({ code: 'EIDRM', errno: -43, syscall: 'msgrcv' });
    expect('path' in error).toBe(false);
  });

  it('matches Node’s own message for the errnos Node knows', () => {
    expect(() => closeSync(2 ** 31 - 1)).toThrow(native.systemError(9, 'close').message);
  });

  it('rejects wrong argument types and ranges with coded errors', () => {
    expect(() => native.errnoName('11' as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => native.errnoName(1.5)).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => native.systemError(2, 42 as never)).toThrow(TypeError);
  });
});

describe('pipe, fdRead, fdWritev', () => {
  it('carries bytes from fdWritev to fdRead, in order, across views of every kind', () => {
    const [readEnd, writeEnd] = pipe();
    const view = new DataView(new ArrayBuffer(2));
    view.setUint8(0, 0x21);
    view.setUint8(1, 0x3f);
    const written = native.fdWritev(writeEnd, [bytes('hello '), new Uint8Array([119, 111]), view]);
    expect(written).toBe(10);

    const target = Buffer.alloc(64);
    expect(native.fdRead(readEnd, target)).toBe(10);
    expect(target.subarray(0, 10).toString('latin1')).toBe('hello wo!?');
  });

  it('reads into any ArrayBufferView, at most its byteLength', () => {
    const [readEnd, writeEnd] = pipe();
    native.fdWritev(writeEnd, [bytes('abcdefgh')]);
    const words = new Uint16Array(2);
    expect(native.fdRead(readEnd, words)).toBe(4);
    expect(Buffer.from(words.buffer).toString()).toBe('abcd');
    const offset = new Uint8Array(new ArrayBuffer(8), 4, 4);
    expect(native.fdRead(readEnd, offset)).toBe(4);
    expect(Buffer.from(offset).toString()).toBe('efgh');
  });

  it('returns null for a read that would block (EAGAIN)', () => {
    const [readEnd] = pipe();
    expect(native.fdRead(readEnd, Buffer.alloc(8))).toBeNull();
  });

  it('returns 0 at end of stream', () => {
    const [readEnd, writeEnd] = pipe();
    native.fdClose(writeEnd);
    expect(native.fdRead(readEnd, Buffer.alloc(8))).toBe(0);
  });

  it('writes partially, then returns null when the pipe is full', () => {
    const [, writeEnd] = pipe();
    const capacity = native.fdPipeSize(writeEnd);
    expect(capacity).toBe(65536);
    const chunk = Buffer.alloc(capacity + 1000);
    expect(native.fdWritev(writeEnd, [chunk])).toBe(capacity);
    expect(native.fdWritev(writeEnd, [chunk])).toBeNull();
  });

  it('returns 0 for no chunks and refuses more than IOV_MAX', () => {
    const [, writeEnd] = pipe();
    expect(native.fdWritev(writeEnd, [])).toBe(0);
    const tooMany = new Array<Buffer>(1025).fill(Buffer.alloc(1));
    expect(() => native.fdWritev(writeEnd, tooMany)).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(native.fdWritev(writeEnd, tooMany.slice(0, 1024))).toBe(1024);
  });

  it('refuses views whose ArrayBuffer was detached', () => {
    const [, writeEnd] = pipe();
    const buffer = new ArrayBuffer(8);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => native.fdWritev(writeEnd, [view])).toThrow(TypeError);
  });

  it('throws EPIPE in Node’s shape when no reader is left', () => {
    const [readEnd, writeEnd] = pipe();
    native.fdClose(readEnd);
    let caught: unknown;
    try {
      native.fdWritev(writeEnd, [bytes('x')]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ code: 'EPIPE', errno: -32, syscall: 'writev' });
    expect((caught as Error).message).toBe('EPIPE: broken pipe, writev');
  });

  it('creates non-blocking close-on-exec ends unless told otherwise', () => {
    const [readEnd, writeEnd] = pipe();
    expect(native.fdGetFlags(readEnd)).toEqual({ nonblock: true, cloexec: true });
    expect(native.fdGetFlags(writeEnd)).toEqual({ nonblock: true, cloexec: true });
    const [plain] = pipe({ nonblock: false, cloexec: false });
    expect(native.fdGetFlags(plain)).toEqual({ nonblock: false, cloexec: false });
  });

  it('sets and clears each flag independently', () => {
    const [readEnd] = pipe();
    native.fdSetFlags(readEnd, { nonblock: false });
    expect(native.fdGetFlags(readEnd)).toEqual({ nonblock: false, cloexec: true });
    native.fdSetFlags(readEnd, { cloexec: false });
    expect(native.fdGetFlags(readEnd)).toEqual({ nonblock: false, cloexec: false });
    native.fdSetFlags(readEnd, { nonblock: true, cloexec: true });
    expect(native.fdGetFlags(readEnd)).toEqual({ nonblock: true, cloexec: true });
  });

  it('tells what a descriptor is', () => {
    const [readEnd] = pipe();
    expect(native.fdType(readEnd)).toBe('fifo');
    const counter = native.eventfd(0);
    opened.push(() => native.fdClose(counter));
    expect(native.fdType(counter)).toBe('unknown');

    for (const [file, type] of [
      ['/dev/null', 'character'],
      ['/proc/self/status', 'file'],
      ['/', 'directory'],
    ] as const) {
      const handle = native.fdAdopt(openSync(file, 'r'));
      opened.push(() => native.fdClose(handle));
      expect(native.fdType(handle)).toBe(type);
    }
  });

  it('reports the descriptor number until closed, then -1; closing twice is a no-op', () => {
    const [readEnd] = pipe();
    const number = native.fdNumber(readEnd);
    expect(readlinkSync(`/proc/self/fd/${number}`)).toMatch(/^pipe:/);
    native.fdClose(readEnd);
    expect(native.fdNumber(readEnd)).toBe(-1);
    expect(() => native.fdClose(readEnd)).not.toThrow();
  });
});

describe('fdAdopt', () => {
  it('owns a descriptor opened elsewhere and closes it on close', () => {
    const [readEnd, writeEnd] = pipe();
    // A second descriptor for the same pipe, as a child would inherit it.
    const number = openSync(`/proc/self/fd/${native.fdNumber(readEnd)}`, 'r');
    const adopted = native.fdAdopt(number);
    expect(native.fdNumber(adopted)).toBe(number);
    expect(native.fdType(adopted)).toBe('fifo');

    native.fdSetFlags(adopted, { nonblock: true });
    native.fdWritev(writeEnd, [bytes('shared')]);
    const target = Buffer.alloc(16);
    expect(native.fdRead(adopted, target)).toBe(6);
    expect(target.subarray(0, 6).toString()).toBe('shared');

    native.fdClose(adopted);
    expect(() => readlinkSync(`/proc/self/fd/${number}`)).toThrow();
  });

  it('throws EBADF for a number that is not open', () => {
    const number = openSync('/dev/null', 'r');
    closeSync(number);
    expect(() => native.fdAdopt(number)).toThrow(
      expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'fcntl' }),
    );
  });

  it('puts the flags back and leaves the descriptor open with closeOnClose false', () => {
    const number = openSync('/dev/null', 'r');
    try {
      const first = native.fdAdopt(number, { closeOnClose: false });
      native.fdSetFlags(first, { nonblock: true });
      native.fdClose(first);
      // Still open, and blocking again as it was found.
      const second = native.fdAdopt(number, { closeOnClose: false, restoreFlagsOnClose: false });
      expect(native.fdGetFlags(second).nonblock).toBe(false);
      native.fdSetFlags(second, { nonblock: true });
      native.fdClose(second);
      const third = native.fdAdopt(number, { closeOnClose: false });
      expect(native.fdGetFlags(third).nonblock).toBe(true);
      native.fdClose(third);
    } finally {
      closeSync(number);
    }
  });

  it('refuses a second owner that would close the same number (EBUSY)', () => {
    const number = openSync('/dev/null', 'r');
    const owner = native.fdAdopt(number);
    opened.push(() => native.fdClose(owner));
    expect(() => native.fdAdopt(number)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(() => native.fdAdopt(number, { closeOnClose: false })).toThrow(
      expect.objectContaining({ code: 'EBUSY' }),
    );
    const [readEnd] = pipe();
    expect(() => native.fdAdopt(native.fdNumber(readEnd))).toThrow(
      expect.objectContaining({ code: 'EBUSY' }),
    );
  });

  it('checks its arguments', () => {
    for (const bad of [-1, 2 ** 31, 1.5, NaN, Infinity]) {
      expect(() => native.fdAdopt(bad)).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(() => native.fdAdopt('3' as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => native.fdAdopt(0, null as never)).toThrow(TypeError);
    expect(() => native.fdAdopt(0, { closeOnClose: 1 } as never)).toThrow(TypeError);
  });
});

describe('handles', () => {
  it('are opaque and tell a closed or foreign handle apart from a wrong type', () => {
    const [readEnd] = pipe();
    const watcher = watch(readEnd, () => {});
    expect(Object.keys(readEnd)).toEqual([]);

    const badHandle = expect.objectContaining({ name: 'TypeError', code: 'ERR_RXIPC_BAD_HANDLE' });
    expect(() => native.fdType(watcher as never)).toThrow(badHandle);
    expect(() => native.fdType({} as never)).toThrow(badHandle);
    expect(() => native.fdWatchStart(readEnd as never, POLL_READABLE)).toThrow(badHandle);
    expect(() => native.fdType(42 as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    native.fdClose(readEnd);
    expect(() => native.fdType(readEnd)).toThrow(badHandle);
    expect(() => native.fdWatchStart(watcher, POLL_READABLE)).toThrow(badHandle);
  });
});

describe('eventfd', () => {
  it('adds on write and reads and resets the counter', () => {
    const counter = native.eventfd(2);
    opened.push(() => native.fdClose(counter));
    expect(native.eventfdWrite(counter, 3)).toBe(true);
    expect(native.eventfdRead(counter)).toBe(5);
    expect(native.eventfdRead(counter)).toBeNull();
  });

  it('takes one at a time in semaphore mode', () => {
    const counter = native.eventfd(2, { semaphore: true });
    opened.push(() => native.fdClose(counter));
    expect(native.eventfdRead(counter)).toBe(1);
    expect(native.eventfdRead(counter)).toBe(1);
    expect(native.eventfdRead(counter)).toBeNull();
  });

  it('returns false when the counter would overflow, and checks the value', () => {
    const counter = native.eventfd(0);
    opened.push(() => native.fdClose(counter));
    const max = 2 ** 53 - 1;
    // The counter holds at most 2^64-2, which is 2048 times max and a little more.
    let writes = 0;
    while (native.eventfdWrite(counter, max)) writes++;
    expect(writes).toBe(2048);

    for (const bad of [0, -1, 2 ** 53, 1.5, NaN]) {
      expect(() => native.eventfdWrite(counter, bad)).toThrow(RangeError);
    }
  });
});

describe('fdWatch', () => {
  it('reports readable while data waits, and stops when told', async () => {
    const [readEnd, writeEnd] = pipe();
    const events: number[] = [];
    const watcher = watch(readEnd, (status, mask) => {
      expect(status).toBe(0);
      events.push(mask);
    });

    native.fdWatchStart(watcher, POLL_READABLE);
    await sleep(20);
    expect(events).toEqual([]);

    native.fdWritev(writeEnd, [bytes('x')]);
    await until(() => events.length >= 2); // level-triggered: again and again until read
    expect(events.every((mask) => mask === POLL_READABLE)).toBe(true);

    native.fdWatchStop(watcher);
    native.fdWatchStop(watcher); // idempotent
    await tick();
    const seen = events.length;
    await sleep(20);
    expect(events.length).toBe(seen);

    native.fdWatchStart(watcher, POLL_READABLE);
    await until(() => events.length > seen);
  });

  it('reports writable on an empty pipe, and both when asked for both', async () => {
    const [readEnd, writeEnd] = pipe();
    let writable = 0;
    const watcher = watch(writeEnd, (_status, mask) => {
      writable |= mask;
      native.fdWatchStop(watcher);
    });
    native.fdWatchStart(watcher, POLL_WRITABLE);
    await until(() => writable !== 0);
    expect(writable).toBe(POLL_WRITABLE);

    native.fdWritev(writeEnd, [bytes('y')]);
    let both = 0;
    const reader = watch(readEnd, (_status, mask) => {
      both |= mask;
      native.fdWatchStop(reader);
    });
    native.fdWatchStart(reader, POLL_READABLE | POLL_WRITABLE);
    await until(() => both !== 0);
    expect(both & POLL_READABLE).toBe(POLL_READABLE);
  });

  it('runs promise jobs queued by the callback before the next callback', async () => {
    const [readEnd, writeEnd] = pipe();
    const order: string[] = [];
    const watcher = watch(readEnd, () => {
      const turn = order.length;
      order.push(`callback ${turn}`);
      void Promise.resolve().then(() => order.push(`microtask ${turn}`));
      if (turn >= 2) native.fdWatchStop(watcher);
    });
    native.fdWritev(writeEnd, [bytes('z')]);
    native.fdWatchStart(watcher, POLL_READABLE);
    await until(() => order.length >= 4);
    expect(order.slice(0, 4)).toEqual(['callback 0', 'microtask 0', 'callback 2', 'microtask 2']);
  });

  it('is stopped and closed when its descriptor is closed', async () => {
    const [readEnd, writeEnd] = pipe();
    let calls = 0;
    const watcher = watch(readEnd, () => calls++);
    native.fdWatchStart(watcher, POLL_READABLE);
    native.fdWritev(writeEnd, [bytes('x')]);
    await until(() => calls > 0);

    native.fdClose(readEnd);
    const seen = calls;
    await sleep(20);
    expect(calls).toBe(seen);
    expect(() => native.fdWatchStart(watcher, POLL_READABLE)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );
    expect(() => native.fdWatchStop(watcher)).not.toThrow();
    expect(() => native.fdWatchClose(watcher)).not.toThrow();
  });

  it('lets the callback close its own descriptor', async () => {
    const [readEnd, writeEnd] = pipe();
    let calls = 0;
    const watcher = watch(readEnd, () => {
      calls++;
      native.fdClose(readEnd);
    });
    native.fdWatchStart(watcher, POLL_READABLE);
    native.fdWritev(writeEnd, [bytes('x')]);
    await until(() => calls > 0);
    await sleep(10);
    expect(calls).toBe(1);
  });

  it('allows one started watcher per descriptor (EEXIST)', () => {
    const [readEnd] = pipe();
    const first = watch(readEnd, () => {});
    const second = watch(readEnd, () => {});
    native.fdWatchStart(first, POLL_READABLE);
    expect(() => native.fdWatchStart(second, POLL_READABLE)).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'uv_poll_start' }),
    );
    expect(() => watch(readEnd, () => {})).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'uv_poll_init' }),
    );
  });

  it('refuses descriptors epoll cannot watch, and masks beyond the poll events', () => {
    const file = native.fdAdopt(openSync('/proc/self/status', 'r'));
    opened.push(() => native.fdClose(file));
    expect(() => native.fdWatch(file, () => {})).toThrow(
      expect.objectContaining({ code: 'EPERM' }),
    );

    const [readEnd] = pipe();
    const watcher = watch(readEnd, () => {});
    for (const bad of [8, -1, 1.5, 2 ** 31]) {
      expect(() => native.fdWatchStart(watcher, bad)).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(() => native.fdWatch(readEnd, 'not a function' as never)).toThrow(TypeError);
  });
});
