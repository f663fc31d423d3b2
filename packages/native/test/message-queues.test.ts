import { afterEach, describe, expect, it } from 'vitest';

import { native, type SysvMsgHandle } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const names: string[] = [];
const queues: SysvMsgHandle[] = [];
afterEach(() => {
  for (const name of names.splice(0)) {
    try {
      native.mqUnlink(name);
    } catch {
      // gone
    }
  }
  for (const queue of queues.splice(0)) {
    try {
      native.msgRmid(queue);
    } catch {
      // gone
    }
    native.msgClose(queue);
  }
});

function queueName(): string {
  const name = `/rxipc-test-${process.pid}-native-${names.length}`;
  names.push(name);
  return name;
}

function privateQueue(): SysvMsgHandle {
  const queue = native.msgget(0, { create: true });
  queues.push(queue);
  return queue;
}

describe('POSIX queue exports', () => {
  it('refuses names that are not /somename before any system call', () => {
    for (const name of ['', 'jobs', '/', '/a/b', `/${'x'.repeat(256)}`, '/a\0b']) {
      expect(() => native.mqOpen(name, { read: true, create: true })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
      expect(() => native.mqUnlink(name)).toThrow(TypeError);
    }
  });

  it('checks options: an access, both attributes or none, exclusive only with create', () => {
    const name = queueName();
    expect(() => native.mqOpen(name, {})).toThrow(/options.read or options.write/);
    expect(() => native.mqOpen(name, { read: true, create: true, maxmsg: 4 })).toThrow(
      /given together/,
    );
    expect(() => native.mqOpen(name, { read: true, exclusive: true })).toThrow(/needs/);
    expect(() => native.mqOpen(name, { read: true, create: true, mode: 0o1000 })).toThrow(
      RangeError,
    );
  });

  it('sends and receives with priorities, returning null and false at the limits', () => {
    const name = queueName();
    const queue = native.mqOpen(name, {
      read: true,
      write: true,
      create: true,
      exclusive: true,
      maxmsg: 2,
      msgsize: 16,
    });
    try {
      expect(native.mqGetAttr(queue)).toEqual({
        nonblock: true,
        maxmsg: 2,
        msgsize: 16,
        curmsgs: 0,
      });
      expect(native.mqSend(queue, Buffer.from('a'), 1)).toBe(true);
      expect(native.mqSend(queue, Buffer.from('bb'), 32767)).toBe(true);
      expect(native.mqSend(queue, Buffer.from('c'), 0)).toBe(false); // full: EAGAIN
      expect(() => native.mqSend(queue, Buffer.from('c'), 32768)).toThrow(RangeError);
      const target = Buffer.alloc(16);
      const priority = new Uint32Array(1);
      expect(native.mqReceive(queue, target, priority)).toBe(2);
      expect(priority[0]).toBe(32767);
      expect(() => native.mqReceive(queue, Buffer.alloc(15))).toThrow(
        expect.objectContaining({ code: 'EMSGSIZE', syscall: 'mq_receive' }),
      );
      expect(native.mqReceive(queue, target)).toBe(1);
      expect(native.mqReceive(queue, target)).toBeNull(); // empty: EAGAIN
      expect(() => native.mqSend(queue, Buffer.alloc(17), 0)).toThrow(
        expect.objectContaining({ code: 'EMSGSIZE' }),
      );
    } finally {
      native.fdClose(queue);
    }
  });

  it('sends a batch in one call until the queue is full, and receives at an offset', () => {
    const name = queueName();
    const queue = native.mqOpen(name, {
      read: true,
      write: true,
      create: true,
      exclusive: true,
      maxmsg: 3,
      msgsize: 16,
    });
    try {
      const messages = ['a', 'bb', 'ccc', 'dddd'].map((text) => Buffer.from(text));
      expect(() => native.mqSendMany(queue, messages, 0, 2, new Uint32Array([1, 32768]))).toThrow(
        RangeError,
      );
      expect(native.mqGetAttr(queue).curmsgs).toBe(0); // nothing sent when a priority is bad
      expect(() => native.mqSendMany(queue, messages, 0, 2, new Uint32Array(1))).toThrow(
        RangeError,
      );
      expect(() => native.mqSendMany(queue, messages, 3, 2, 0)).toThrow(RangeError);
      expect(native.mqSendMany(queue, messages, 0, 0, 0)).toBe(0);
      expect(native.mqSendMany(queue, messages, 0, 2, new Uint32Array([1, 7]))).toBe(2);
      expect(native.mqSendMany(queue, messages, 2, 4, 3)).toBe(1); // full after one: EAGAIN
      expect(native.mqSendMany(queue, messages, 3, 4, 3)).toBe(0);

      const target = Buffer.alloc(40);
      const priority = new Uint32Array(1);
      expect(native.mqReceive(queue, target, priority, 20)).toBe(2); // 'bb', priority 7
      expect(priority[0]).toBe(7);
      expect(target.subarray(20, 22).toString()).toBe('bb');
      expect(native.mqReceive(queue, target, undefined, 24)).toBe(3); // 'ccc', priority 3
      expect(target.subarray(24, 27).toString()).toBe('ccc');
      expect(() => native.mqReceive(queue, target, undefined, 25)).toThrow(
        expect.objectContaining({ code: 'EMSGSIZE' }), // 15 bytes left: less than msgsize
      );
      expect(() => native.mqReceive(queue, target, undefined, 41)).toThrow(RangeError);
      expect(native.mqReceive(queue, target, priority, 0)).toBe(1);
      expect(priority[0]).toBe(1);
      // The first message failing throws; a later one stops the batch, to fail next call.
      expect(() => native.mqSendMany(queue, [Buffer.alloc(17)], 0, 1, 0)).toThrow(
        expect.objectContaining({ code: 'EMSGSIZE', syscall: 'mq_send' }),
      );
      expect(native.mqSendMany(queue, [messages[0]!, Buffer.alloc(17)], 0, 2, 0)).toBe(1);
    } finally {
      native.fdClose(queue);
    }
  });

  it('reports EBADF for a descriptor that is not a queue', () => {
    const [read, write] = native.pipe();
    try {
      expect(() => native.mqReceive(read, Buffer.alloc(8192))).toThrow(
        expect.objectContaining({ code: 'EBADF', syscall: 'mq_receive' }),
      );
      expect(() => native.mqGetAttr(write)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    } finally {
      native.fdClose(read);
      native.fdClose(write);
    }
  });
});

describe('System V queue exports', () => {
  it('creates an IPC_PRIVATE queue only when asked to', () => {
    expect(() => native.msgget(0)).toThrow(/IPC_PRIVATE/);
    expect(() => native.msgget(0, { exclusive: true })).toThrow(TypeError);
    const queue = privateQueue();
    expect(native.msgId(queue)).toBeGreaterThanOrEqual(0);
    expect(native.msgStat(queue)).toMatchObject({ key: 0, mode: 0o600, messages: 0 });
  });

  it('selects by type, leaves a message longer than the buffer, and returns null when none fits', () => {
    const queue = privateQueue();
    const type = new Float64Array(1);
    expect(native.msgsnd(queue, 5, Buffer.from('five'))).toBe(true);
    expect(native.msgsnd(queue, 2, Buffer.from('two'))).toBe(true);
    const target = Buffer.alloc(64);
    expect(native.msgrcv(queue, target, 7, undefined, type)).toBeNull(); // ENOMSG
    expect(() => native.msgrcv(queue, Buffer.alloc(3), 5)).toThrow(
      expect.objectContaining({ code: 'E2BIG', syscall: 'msgrcv' }),
    );
    expect(native.msgrcv(queue, target, -5, undefined, type)).toBe(3);
    expect(type[0]).toBe(2);
    expect(native.msgrcv(queue, target, 2, { except: true }, type)).toBe(4);
    expect([target.subarray(0, 4).toString(), type[0]]).toEqual(['five', 5]);
    expect(() => native.msgrcv(queue, target, 0, { except: true })).toThrow(/positive msgtyp/);
    expect(() => native.msgsnd(queue, 0, Buffer.alloc(1))).toThrow(RangeError);
  });

  it('sends a batch in one call until the queue is full, and receives at an offset', () => {
    const queue = privateQueue();
    const messages = ['a', 'bb', 'ccc'].map((text) => Buffer.from(text));
    // Every type is checked before anything is sent.
    for (const bad of [0, 0.5, NaN, 2 ** 53]) {
      expect(() => native.msgsndMany(queue, messages, 0, 2, new Float64Array([1, bad]))).toThrow(
        RangeError,
      );
    }
    expect(() => native.msgsndMany(queue, messages, 0, 2, 0)).toThrow(RangeError);
    expect(() => native.msgsndMany(queue, messages, 0, 2, new Float64Array(1))).toThrow(RangeError);
    expect(() => native.msgsndMany(queue, messages, 0, 2, new Uint32Array(2) as never)).toThrow(
      TypeError,
    );
    expect(() => native.msgsndMany(queue, messages, 3, 2, 1)).toThrow(RangeError);
    expect(() => native.msgsndMany(queue, messages, 0, 4, 1)).toThrow(RangeError);
    expect(native.msgStat(queue).messages).toBe(0);
    expect(native.msgsndMany(queue, messages, 0, 0, 1)).toBe(0);
    expect(native.msgsndMany(queue, messages, 0, 2, new Float64Array([7, 2 ** 53 - 1]))).toBe(2);
    expect(native.msgsndMany(queue, messages, 2, 3, 3)).toBe(1);

    const target = Buffer.alloc(40);
    const type = new Float64Array(1);
    expect(native.msgrcv(queue, target, 0, undefined, type, 20)).toBe(1);
    expect([target.subarray(20, 21).toString(), type[0]]).toEqual(['a', 7]);
    expect(native.msgrcv(queue, target, 3, undefined, undefined, 37)).toBe(3); // fits exactly
    expect(target.subarray(37, 40).toString()).toBe('ccc');
    expect(() => native.msgrcv(queue, target, 0, undefined, undefined, 39)).toThrow(
      expect.objectContaining({ code: 'E2BIG' }), // 'bb' is longer than the room after 39
    );
    expect(() => native.msgrcv(queue, target, 0, undefined, undefined, 41)).toThrow(RangeError);
    expect(native.msgrcv(queue, target, 0, undefined, type, 0)).toBe(2);
    expect([target.subarray(0, 2).toString(), type[0]]).toEqual(['bb', 2 ** 53 - 1]);

    // Full: a batch stops at EAGAIN and says how many went.
    const big = Buffer.alloc(4096);
    const many = Array.from({ length: 16 }, () => big);
    const sent = native.msgsndMany(queue, many, 0, many.length, 5);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(many.length);
    expect(native.msgStat(queue).messages).toBe(sent);
    expect(native.msgsndMany(queue, many, sent, many.length, 5)).toBe(0);
    // The first message failing throws; a later one stops the batch, to fail next call.
    native.msgrcv(queue, Buffer.alloc(8192), 0);
    const tooLong = Buffer.alloc(64 * 1024);
    expect(() => native.msgsndMany(queue, [tooLong], 0, 1, 1)).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'msgsnd' }),
    );
    expect(native.msgsndMany(queue, [Buffer.from('x'), tooLong], 0, 2, 1)).toBe(1);
  });

  it('rejects handles of other kinds and closed handles', () => {
    const [read, write] = native.pipe();
    const queue = native.msgget(0, { create: true });
    try {
      expect(() => native.msgsnd(read as never, 1, Buffer.alloc(1))).toThrow(
        expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
      );
      native.msgRmid(queue);
      native.msgClose(queue);
      native.msgClose(queue); // idempotent
      expect(native.msgId(queue)).toBe(-1);
      expect(() => native.msgStat(queue)).toThrow(
        expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
      );
    } finally {
      native.fdClose(read);
      native.fdClose(write);
    }
  });

  it('wakes a receive waiter when a message arrives, without taking it', async () => {
    const queue = privateQueue();
    const reports: unknown[] = [];
    const waiter = native.msgRecvWaiter(queue, 3, undefined, (error) => reports.push(error));
    try {
      native.msgsnd(queue, 1, Buffer.from('other type'));
      await sleep(30);
      expect(reports).toEqual([]);
      native.msgsnd(queue, 3, Buffer.from('mine'));
      while (reports.length === 0) await sleep(2);
      expect(reports).toEqual([null]);
      expect(native.msgStat(queue).messages).toBe(2); // peeked, not taken
    } finally {
      native.waiterClose(waiter);
    }
  });

  it('closes a waiter blocked in msgrcv within 200 ms, and its thread is gone', async () => {
    const queue = privateQueue();
    const before = native.waiterCount();
    const waiter = native.msgRecvWaiter(queue, 0, undefined, () => {});
    await sleep(30); // let the thread reach msgrcv
    expect(native.waiterCount()).toBe(before + 1);
    const started = performance.now();
    native.waiterClose(waiter);
    expect(performance.now() - started).toBeLessThan(200);
    expect(native.waiterCount()).toBe(before);
  });

  it('reports EIDRM to a waiter when the queue is removed', async () => {
    const queue = privateQueue();
    let report: unknown;
    const waiter = native.msgRecvWaiter(queue, 0, undefined, (error) => (report = error));
    try {
      await sleep(30);
      native.msgRmid(queue);
      while (report === undefined) await sleep(2);
      expect(report).toMatchObject({ code: 'EIDRM', errno: -43, syscall: 'msgrcv' });
    } finally {
      native.waiterClose(waiter);
    }
  });

  it('sends from a send waiter once there is room, and sends nothing if closed first', async () => {
    const queue = privateQueue();
    const big = Buffer.alloc(8192);
    while (native.msgsnd(queue, 1, big)); // fill it
    const full = native.msgStat(queue).messages;
    let sent: unknown;
    const waiter = native.msgSendWaiter(queue, 9, Buffer.from('late'), (error) => (sent = error));
    await sleep(30);
    expect(sent).toBeUndefined();
    expect(native.msgrcv(queue, Buffer.alloc(8192), 1)).toBe(8192);
    while (sent === undefined) await sleep(2);
    expect(sent).toBeNull();
    expect(native.msgStat(queue).messages).toBe(full);

    // The same thread takes the next message when the queue is full again.
    while (native.msgsnd(queue, 1, Buffer.alloc(1))); // full, to the byte
    const before = native.waiterCount();
    sent = undefined;
    native.msgSendWaiterLoad(waiter, 9, Buffer.from('later'));
    expect(() => native.msgSendWaiterLoad(waiter, 9, Buffer.from('too soon'))).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BUSY' }),
    );
    await sleep(30);
    expect(sent).toBeUndefined();
    expect(native.msgrcv(queue, Buffer.alloc(8192), 1)).toBe(8192);
    while (sent === undefined) await sleep(2);
    expect(sent).toBeNull();
    expect(native.waiterCount()).toBe(before);
    native.waiterClose(waiter);
    expect(native.waiterCount()).toBe(before - 1);
    expect(() => native.msgSendWaiterLoad(waiter, 1, Buffer.alloc(1))).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_BAD_HANDLE' }),
    );

    while (native.msgsnd(queue, 1, Buffer.alloc(1))); // full again, to the byte
    const fullAgain = native.msgStat(queue).messages;
    const interrupted = native.msgSendWaiter(queue, 9, Buffer.from('never'), () => {});
    await sleep(30);
    const started = performance.now();
    native.waiterClose(interrupted);
    expect(performance.now() - started).toBeLessThan(200);
    expect(native.msgStat(queue).messages).toBe(fullAgain);
  });

  it('puts back a zero-length message a waiter took when nobody received it', async () => {
    const queue = privateQueue();
    const again = native.msgOpenId(native.msgId(queue));
    let reported = false;
    native.msgRecvWaiter(again, 0, undefined, () => (reported = true));
    await sleep(30);
    native.msgsnd(queue, 4, Buffer.alloc(0));
    while (!reported) await sleep(2);
    expect(native.msgStat(queue).messages).toBe(0); // taken by the peek
    native.msgClose(again); // closes the waiter, then puts the message back
    const type = new Float64Array(1);
    expect(native.msgrcv(queue, Buffer.alloc(8), 0, undefined, type)).toBe(0);
    expect(type[0]).toBe(4);
  });

  it('computes the ftok key of a file and refuses project ids outside 1..255', () => {
    const key = native.ftok('/', 1);
    expect(key).toBeGreaterThan(0);
    expect(native.ftok('/', 1)).toBe(key);
    expect(() => native.ftok('/', 0)).toThrow(RangeError);
    expect(() => native.ftok('/no/such/file', 1)).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'ftok' }),
    );
  });
});
