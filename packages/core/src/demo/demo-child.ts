/**
 * One process of the demo pipeline: `node demo-child.js producer|stage|sink`. Its channels
 * are inherited descriptors (fd 3 in, fd 4 out). Every 250 ms it prints a JSON line with its
 * count, pending messages and memory, which the demo runner turns into a live table.
 */
import { boundedMergeMap, type Channel, jsonCodec, open, writeAll } from '@rxipc/adapters';
import { map, timer } from 'rxjs';

interface Job {
  readonly seq: number;
  readonly text: string;
}

const role = process.argv[2];
let count = 0;
let watched: Channel<Job> | undefined;
const report = (): void => {
  const line = { role, count, pending: watched?.pending ?? 0, rss: process.memoryUsage().rss };
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
setInterval(report, 250).unref();
process.on('SIGTERM', () => {
  report();
  process.exit(0);
});

if (role === 'producer') {
  // As fast as the pipe takes it: `ready()` waits while highWaterMark messages are pending.
  const out = open<Job>('fd:3', { codec: jsonCodec as never, highWaterMark: 1024 });
  watched = out;
  for (let seq = 0; ; seq++) {
    if (out.pending >= out.highWaterMark) await out.ready();
    out.next({ seq, text: `job ${seq}` });
    count++;
  }
} else if (role === 'stage') {
  const input = open<Job>('fd:3', { codec: jsonCodec as never });
  const out = open<Job>('fd:4', { codec: jsonCodec as never, highWaterMark: 256 });
  watched = out;
  // writeAll pauses the input (its valve) whenever 256 messages wait for the next pipe.
  await writeAll(
    out,
    input.pipe(
      map((job) => {
        count++;
        return { seq: job.seq, text: job.text.toUpperCase() };
      }),
    ),
  );
} else if (role === 'sink') {
  // The slow end: one millisecond per message, one at a time. Demand reaches the kernel.
  const input = open<Job>('fd:3', { codec: jsonCodec as never });
  input
    .pipe(boundedMergeMap((job) => timer(1).pipe(map(() => job)), { concurrency: 1 }))
    .subscribe(() => count++);
} else {
  process.stderr.write(`demo-child: unknown role ${String(role)}\n`);
  process.exit(2);
}
