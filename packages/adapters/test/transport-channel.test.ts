import {
  delay,
  finalize,
  firstValueFrom,
  from,
  interval,
  lastValueFrom,
  map,
  of,
  Subject,
  take,
  toArray,
} from 'rxjs';
import { describe, expect, it } from 'vitest';

import { END, type MessageTransport } from '../src/channel/transport.js';
import { transportChannel } from '../src/channel/transport-channel.js';
import { boundedMergeMap } from '../src/flow/bounded-merge-map.js';
import { writeAll } from '../src/flow/write-all.js';
import { utf8Codec } from '../src/codecs/utf8.js';
import { FakeTransport, flush, msg } from './fake-transport.js';

describe('transportChannel', () => {
  it('opens the transport on first use, not before', async () => {
    let opened = 0;
    const transport = new FakeTransport();
    const channel = transportChannel(() => (opened++, transport));
    expect(opened).toBe(0);
    const subscription = channel.subscribe();
    await channel.send(msg(1));
    expect(opened).toBe(1);
    subscription.unsubscribe();
    await channel.close();
    expect(transport.closed).toBe(true);
  });

  it('delivers incoming messages to every subscriber and completes at end of stream', async () => {
    const transport = new FakeTransport();
    transport.incoming.push(msg(1), msg(2), END);
    const channel = transportChannel(() => transport);
    const [a, b] = await Promise.all([
      lastValueFrom(channel.pipe(toArray())),
      lastValueFrom(channel.pipe(toArray())),
    ]);
    expect(a.map((m) => m[0])).toEqual([1, 2]);
    expect(b.map((m) => m[0])).toEqual([1, 2]);
    // A late subscriber sees the end at once.
    await expect(lastValueFrom(channel.pipe(toArray()))).resolves.toEqual([]);
  });

  it('stops receiving when the last subscriber leaves', async () => {
    const transport = new FakeTransport();
    const channel = transportChannel(() => transport);
    transport.incoming.push(msg(1), msg(2), msg(3));
    await expect(firstValueFrom(channel)).resolves.toEqual(msg(1));
    await flush();
    expect(transport.incoming).toHaveLength(2);
    expect(transport.readable).toBeNull();
  });

  it('resolves send only when the kernel accepted the message', async () => {
    const transport = new FakeTransport();
    transport.capacity = 1;
    const channel = transportChannel(() => transport);
    let secondDone = false;
    await channel.send(msg(1));
    const second = channel.send(msg(2)).then(() => (secondDone = true));
    await flush();
    expect(secondDone).toBe(false);
    expect(channel.pending).toBe(1);
    transport.capacity = 2;
    transport.writable?.();
    await second;
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 2]);
  });

  it('errors the channel when next() overflows highWaterMark with overflow "error"', async () => {
    const transport = new FakeTransport();
    transport.capacity = 0;
    const channel = transportChannel(() => transport, { highWaterMark: 2 });
    const ended = lastValueFrom(channel).catch((error: unknown) => error);
    await flush();
    channel.next(msg(1));
    channel.next(msg(2));
    channel.next(msg(3));
    await expect(ended).resolves.toMatchObject({ code: 'ERR_RXIPC_OVERFLOW' });
  });

  it('drops the newest or the oldest message by policy, and counts them', async () => {
    for (const [overflow, expected] of [
      ['drop-newest', [1, 2]],
      ['drop-oldest', [1, 3]],
    ] as const) {
      const transport = new FakeTransport();
      transport.capacity = 0;
      const channel = transportChannel(() => transport, { highWaterMark: 2, overflow });
      channel.next(msg(1));
      channel.next(msg(2));
      channel.next(msg(3));
      expect(channel.stats.dropped).toBe(1);
      transport.capacity = 10;
      await flush();
      transport.writable?.();
      expect(transport.accepted.map((m) => m[0])).toEqual(expected);
      await channel.close();
    }
  });

  it('settles each send() for its own message when next() and drop-oldest move the queue', async () => {
    const transport = new FakeTransport();
    transport.capacity = 0;
    const channel = transportChannel(() => transport, {
      highWaterMark: 3,
      overflow: 'drop-oldest',
    });
    const settled: string[] = [];
    const track = (label: string, promise: Promise<void>): Promise<void> =>
      promise.then(
        () => void settled.push(`${label} ok`),
        (error: { code?: string }) => void settled.push(`${label} ${error.code}`),
      );
    const sends = [track('s1', channel.send(msg(1)))];
    channel.next(msg(2));
    sends.push(track('s3', channel.send(msg(3))));
    channel.next(msg(4)); // full: drops 2, the oldest not yet started
    channel.next(msg(5)); // drops 3, whose send() is rejected
    sends.push(track('s6', channel.send(msg(6)))); // waits for room
    await flush();
    expect(settled).toEqual(['s3 ERR_RXIPC_OVERFLOW']);
    transport.capacity = 2;
    transport.writable?.();
    await flush();
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 4]);
    expect(settled).toEqual(['s3 ERR_RXIPC_OVERFLOW', 's1 ok']);
    transport.capacity = 10;
    transport.writable?.();
    await Promise.all(sends);
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 4, 5, 6]);
    expect(settled).toEqual(['s3 ERR_RXIPC_OVERFLOW', 's1 ok', 's6 ok']);
    expect(channel.stats).toMatchObject({ sent: 4, dropped: 2 });
    await channel.close();
  });

  it('refuses what a plugin codec encodes to something other than a Uint8Array', async () => {
    const transport = new FakeTransport();
    const sloppy = {
      name: 'sloppy',
      encode: (value: string) => new DataView(new TextEncoder().encode(value).buffer),
      decode: utf8Codec.decode,
    } as unknown as typeof utf8Codec;
    const channel = transportChannel<string>(() => transport, { codec: sloppy });
    await expect(channel.send('hello')).rejects.toThrow(
      'the sloppy codec returned [object DataView], not a Uint8Array',
    );
    expect(transport.accepted).toEqual([]);
    await channel.close();
  });

  it('rejects pending sends with ERR_RXIPC_CHANNEL_CLOSED on close', async () => {
    const transport = new FakeTransport();
    transport.capacity = 0;
    const channel = transportChannel(() => transport);
    const pending = channel.send(msg(1));
    await channel.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    await expect(channel.send(msg(2))).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    await channel.close(); // idempotent
  });

  it('flushes what is pending on complete(), then ends the write side', async () => {
    const transport = new FakeTransport();
    transport.capacity = 1;
    const channel = transportChannel(() => transport);
    channel.next(msg(1));
    channel.next(msg(2));
    channel.complete();
    await flush();
    expect(transport.writeEnded).toBe(false);
    transport.capacity = 2;
    transport.writable?.();
    expect(transport.writeEnded).toBe(true);
  });

  it('decodes with the codec, and errors or skips on undecodable bytes by policy', async () => {
    const bad = new Uint8Array([0xff]);
    const good = new TextEncoder().encode('ok');
    const erroring = new FakeTransport();
    erroring.incoming.push(bad);
    await expect(
      firstValueFrom(transportChannel(() => erroring, { codec: utf8Codec })),
    ).rejects.toMatchObject({
      code: 'ERR_RXIPC_DECODE',
    });
    const skipping = new FakeTransport();
    skipping.incoming.push(bad, good, END);
    const channel = transportChannel(() => skipping, { codec: utf8Codec, onDecodeError: 'skip' });
    await expect(lastValueFrom(channel.pipe(toArray()))).resolves.toEqual(['ok']);
    expect(channel.stats.undecodable).toBe(1);
  });

  it('reads only while a boundedMergeMap downstream has a free slot, through map', async () => {
    const transport = new FakeTransport();
    for (let i = 0; i < 100; i++) transport.incoming.push(msg(i));
    transport.incoming.push(END);
    const channel = transportChannel(() => transport);
    const inFlight: Subject<void>[] = [];
    const results: number[] = [];
    channel
      .pipe(
        map((m) => m[0]!),
        boundedMergeMap(
          (n) => {
            const done = new Subject<void>();
            inFlight.push(done);
            return done.pipe(
              take(1),
              map(() => n),
            );
          },
          { concurrency: 3 },
        ),
      )
      .subscribe((n) => results.push(n));
    await flush();
    // Three slots busy: the channel took exactly three messages from the kernel.
    expect(transport.incoming).toHaveLength(98);
    inFlight.shift()!.next();
    await flush();
    expect(transport.incoming).toHaveLength(97);
    expect(results).toEqual([0]);
  });

  it('async iteration pulls from the kernel only as the loop consumes', async () => {
    const transport = new FakeTransport();
    for (let i = 0; i < 1000; i++) transport.incoming.push(msg(i % 256));
    const channel = transportChannel(() => transport);
    const iterator = channel[Symbol.asyncIterator]();
    await iterator.next();
    await flush();
    expect(transport.incoming.length).toBeGreaterThan(1000 - 70);
    await iterator.return?.();
  });

  it('writeAll sends an iterable with backpressure and nothing lost', async () => {
    const transport = new FakeTransport();
    transport.capacity = 5;
    const channel = transportChannel(() => transport, { highWaterMark: 4 });
    const values = Array.from({ length: 50 }, (_, i) => msg(i));
    const writing = writeAll(channel, values);
    for (let i = 0; i < 20; i++) {
      await flush();
      expect(channel.pending).toBeLessThanOrEqual(4);
      transport.capacity += 5;
      transport.writable?.();
    }
    await writing;
    expect(transport.accepted.map((m) => m[0])).toEqual(values.map((m) => m[0]));
  });

  it('writeAll with a source that ignores pause fails instead of buffering without bound', async () => {
    const transport = new FakeTransport();
    transport.capacity = 0;
    const channel = transportChannel(() => transport, { highWaterMark: 4 });
    const source = from(Array.from({ length: 100 }, (_, i) => msg(i)));
    await expect(writeAll(channel, source)).rejects.toMatchObject({ code: 'ERR_RXIPC_OVERFLOW' });
    await channel.close();
  });

  it('writeAll stops its source at the first failed send', async () => {
    const transport = new FakeTransport();
    let sent = 0;
    transport.send = () => {
      if (++sent > 3)
        throw Object.assign(new Error('EPIPE: broken pipe, writev'), { code: 'EPIPE' });
      return 1;
    };
    const channel = transportChannel(() => transport);
    let unsubscribed = false;
    const source = interval(1).pipe(
      map((i) => msg(i % 256)),
      finalize(() => (unsubscribed = true)),
    );
    await expect(writeAll(channel, source)).rejects.toMatchObject({ code: 'EPIPE' });
    expect(unsubscribed).toBe(true);
    let pulled = 0;
    function* forever() {
      for (;;) {
        pulled++;
        yield msg(1);
      }
    }
    await expect(writeAll(channel, forever())).rejects.toMatchObject({ code: 'EPIPE' });
    expect(pulled).toBeLessThan(10);
  });

  it('boundedMergeMap errors when a plain source overruns its buffer', async () => {
    const result = lastValueFrom(
      from([1, 2, 3, 4, 5]).pipe(
        boundedMergeMap((n) => of(n).pipe(delay(1)), { concurrency: 1, bufferSize: 2 }),
      ),
    );
    await expect(result).rejects.toMatchObject({ code: 'ERR_RXIPC_OVERFLOW' });
  });
});

/** A transport that arrives later: what `connect` returns while a ring joiner waits. */
function opening(): {
  open: () => Promise<MessageTransport>;
  resolve(transport: MessageTransport): void;
  reject(error: unknown): void;
  readonly calls: number;
} {
  let settle: { resolve(t: MessageTransport): void; reject(e: unknown): void } | undefined;
  let calls = 0;
  return {
    open: () => {
      calls++;
      return new Promise<MessageTransport>((resolve, reject) => (settle = { resolve, reject }));
    },
    resolve: (transport) => settle!.resolve(transport),
    reject: (error) => settle!.reject(error),
    get calls() {
      return calls;
    },
  };
}

describe('transportChannel on a transport that opens asynchronously', () => {
  it('queues next and send while opening and sends them, in order, once open', async () => {
    const transport = new FakeTransport();
    const pending = opening();
    const channel = transportChannel(pending.open, { highWaterMark: 2 });
    let settled = 0;
    channel.next(msg(1));
    const sends = [2, 3, 4].map((n) => channel.send(msg(n)).then(() => settled++));
    expect(channel.pending).toBe(4); // past highWaterMark, the last sends wait their turn
    await flush();
    expect(settled).toBe(0);
    expect(transport.accepted).toEqual([]);
    pending.resolve(transport);
    await Promise.all(sends);
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 2, 3, 4]);
    expect(channel.pending).toBe(0);
    expect(pending.calls).toBe(1);
    await channel.close();
    expect(transport.closed).toBe(true);
  });

  it('applies the overflow policy to what next() queues while opening', async () => {
    const transport = new FakeTransport();
    const pending = opening();
    const channel = transportChannel(pending.open, {
      highWaterMark: 2,
      overflow: 'drop-newest',
    });
    for (const n of [1, 2, 3]) channel.next(msg(n));
    expect(channel.stats.dropped).toBe(1);
    pending.resolve(transport);
    await channel.send(msg(4));
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 2, 4]);
    await channel.close();
  });

  it('lets subscribers attach while opening; they receive once the transport is open', async () => {
    const transport = new FakeTransport();
    transport.incoming.push(msg(7), msg(8), END);
    const pending = opening();
    const channel = transportChannel(pending.open);
    const all = lastValueFrom(channel.pipe(toArray()));
    await flush();
    expect(transport.receives).toBe(0);
    pending.resolve(transport);
    expect((await all).map((m) => m[0])).toEqual([7, 8]);
    await channel.close();
  });

  it('checks messages queued while opening when the transport arrives', async () => {
    const transport = new FakeTransport();
    const pending = opening();
    const channel = transportChannel(pending.open);
    const fits = channel.send(msg(1));
    const tooLarge = channel.send(new Uint8Array(2000)); // over FakeTransport's 1024
    const after = channel.send(msg(3));
    pending.resolve(transport);
    await expect(tooLarge).rejects.toThrow('too large');
    await Promise.all([fits, after]);
    expect(transport.accepted.map((m) => m[0])).toEqual([1, 3]);

    // A next() whose message fails the check fails the channel, as it would when open.
    const later = opening();
    const failing = transportChannel(later.open);
    const subscriber = firstValueFrom(failing);
    const queued = failing.send(msg(1));
    failing.next(new Uint8Array(2000));
    later.resolve(new FakeTransport());
    await expect(queued).rejects.toThrow('too large');
    await expect(subscriber).rejects.toThrow('too large');
    await expect(failing.send(msg(2))).rejects.toThrow('too large');
    await Promise.all([channel.close(), failing.close()]);
  });

  it('errors subscribers and rejects sends with the open failure, and opens again on next use', async () => {
    const pending = opening();
    const channel = transportChannel(pending.open);
    const subscriber = firstValueFrom(channel);
    const sent = channel.send(msg(1));
    const failure = Object.assign(new Error('ENOENT: no such file or directory, shm_open'), {
      code: 'ENOENT',
    });
    pending.reject(failure);
    await expect(sent).rejects.toBe(failure);
    await expect(subscriber).rejects.toBe(failure);
    const transport = new FakeTransport();
    const again = channel.send(msg(2));
    expect(pending.calls).toBe(2);
    pending.resolve(transport);
    await again;
    expect(transport.accepted.map((m) => m[0])).toEqual([2]);
    await channel.close();
  });

  it('fails the channel when opening fails with next() messages queued', async () => {
    const pending = opening();
    const channel = transportChannel(pending.open);
    channel.next(msg(1));
    pending.reject(new Error('open failed'));
    await flush();
    await expect(channel.send(msg(2))).rejects.toThrow('open failed');
    expect(pending.calls).toBe(1);
    await channel.close();
  });

  it('close() while opening waits for the transport, closes it and rejects pending sends', async () => {
    const transport = new FakeTransport();
    const pending = opening();
    const channel = transportChannel(pending.open);
    let completed = false;
    channel.subscribe({ complete: () => (completed = true) });
    const sent = channel.send(msg(1));
    let closed = false;
    const closing = channel.close().then(() => (closed = true));
    await expect(sent).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    await flush();
    expect(closed).toBe(false);
    pending.resolve(transport);
    await closing;
    expect(transport.closed).toBe(true);
    expect(transport.accepted).toEqual([]);
    expect(transport.readable).toBeNull();
    expect(completed).toBe(true);

    // An open that fails after close(): close() still resolves, nothing to release.
    const failing = opening();
    const other = transportChannel(failing.open);
    other.subscribe({ error: () => {} });
    const otherClosing = other.close();
    failing.reject(new Error('open failed'));
    await expect(otherClosing).resolves.toBeUndefined();
  });

  it('ends the write side once open when complete() came while opening', async () => {
    const transport = new FakeTransport();
    const pending = opening();
    const channel = transportChannel(pending.open);
    channel.subscribe();
    channel.complete();
    pending.resolve(transport);
    await flush();
    expect(transport.writeEnded).toBe(true);

    const other = new FakeTransport();
    const later = opening();
    const withPending = transportChannel(later.open);
    withPending.next(msg(1));
    withPending.complete();
    later.resolve(other);
    await flush();
    expect(other.accepted.map((m) => m[0])).toEqual([1]);
    expect(other.writeEnded).toBe(true);
    await Promise.all([channel.close(), withPending.close()]);
  });

  it('close() while opening aborts the signal open was given; an opener that honours it ends close() at once', async () => {
    let given: AbortSignal | undefined;
    const channel = transportChannel(
      (signal) =>
        new Promise<MessageTransport>((_, reject) => {
          given = signal;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    );
    let completed = false;
    channel.subscribe({ complete: () => (completed = true) });
    const sent = channel.send(msg(1));
    await flush();
    expect(given?.aborted).toBe(false);
    const closing = channel.close();
    await expect(sent).rejects.toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    await closing; // never settles unless the abort reached the opener
    expect(given?.aborted).toBe(true);
    expect(given?.reason).toMatchObject({ code: 'ERR_RXIPC_CHANNEL_CLOSED' });
    expect(completed).toBe(true);
  });

  it('never aborts the signal of an open that has finished', async () => {
    const signals: AbortSignal[] = [];
    const transport = new FakeTransport();
    const direct = transportChannel((signal) => (signals.push(signal), transport));
    const later = new FakeTransport();
    const pending = opening();
    const delayed = transportChannel((signal) => (signals.push(signal), pending.open()));
    await direct.send(msg(1));
    const sent = delayed.send(msg(2));
    pending.resolve(later);
    await sent;
    await Promise.all([direct.close(), delayed.close()]);
    expect(signals.map((signal) => signal.aborted)).toEqual([false, false]);
    expect([transport.closed, later.closed]).toEqual([true, true]);
  });
});
