/**
 * `node --import tsx --conditions=@rxipc/source main.ts [--jobs N] [--replicas N] [--json]`
 *
 * Makes a POSIX message queue, compiles and starts the C producer, which fills it with jobs
 * of mixed priorities; reads the queue (the most urgent job first, as mq_receive(3) delivers
 * them) into a pipeline of workers, and prints each job as it is done, in the order taken
 * from the queue. The queue is rxipc's: recorded in the registry, removed at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { posixMq, subscribeWithValve, utf8Codec, ValveController } from '@rxipc/adapters';
import { pipeline, stage } from '@rxipc/core';
import { map, Observable, takeWhile } from 'rxjs';

import type * as Worker from './stages/worker.js';
import type { Done, Job } from './stages/worker.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});

const producer = compileProducer();
const name = `/rxipc-jobs-${process.pid}`;
const queue = posixMq(`mq:${name}?maxmsg=10&msgsize=128`, { envelopes: true, codec: utf8Codec });
let filled: () => void = () => {};
const ready = new Promise<void>((resolve) => (filled = resolve));
const jobs = heldUntil(queue, ready).pipe(
  takeWhile((message) => message.data !== 'stop'),
  map((message): Job => {
    const [, id] = message.data.split(' ');
    return { id: Number(id), priority: message.priority };
  }),
);
const workers = stage<typeof Worker>(new URL('./stages/worker.ts', import.meta.url), {
  replicas: Number(values.replicas),
  // Two jobs in flight per worker: the rest wait in the kernel's queue, where a more urgent
  // job still overtakes them.
  window: 2,
});

const done: Done[] = [];
// Subscribing opens (and creates) the queue; it is read once the producer has filled it, so
// that the first jobs taken show the kernel's priority order plainly.
pipeline(jobs, workers).subscribe({
  next(job) {
    done.push(job);
    if (!values.json) {
      process.stdout.write(
        `job ${String(job.id).padStart(4)}  priority ${job.priority}  done by pid ${job.pid}\n`,
      );
    }
  },
  error(error: Error) {
    process.stderr.write(`job-queue: ${error.message}\n`);
    process.exitCode = 1;
    void queue.close();
  },
  complete() {
    void queue.close();
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ order: done.map((j) => [j.id, j.priority]), pids: [...new Set(done.map((j) => j.pid))] })}\n`,
      );
    }
  },
});

const child = spawn(producer, [name, values.jobs], { stdio: ['ignore', 'pipe', 'inherit'] });
createInterface({ input: child.stdout! }).once('line', () => filled());
child.on('exit', (code, signal) => {
  if (code !== 0) process.stderr.write(`job-queue: the producer ended with ${signal ?? code}\n`);
});
process.stdout.on('error', () => process.exit(0)); // `| head` closed the pipe: fine

/** `source`, subscribed (so its kernel object is opened) at once, but read only after `open`. */
function heldUntil<T>(source: Observable<T>, open: Promise<void>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const gate = new ValveController();
    gate.close();
    void open.then(() => gate.reopen());
    return subscribeWithValve(source, gate, subscriber);
  });
}

/** Compiles producer.c once (into the temp directory), and returns the program's path. */
function compileProducer(): string {
  const source = fileURLToPath(new URL('./producer.c', import.meta.url));
  const dir = path.join(tmpdir(), `rxipc-examples-${process.getuid?.() ?? 0}`);
  const program = path.join(dir, `job-producer-${statSync(source).mtimeMs}`);
  try {
    statSync(program);
  } catch {
    mkdirSync(dir, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', program, source, '-lrt'], { stdio: 'inherit' });
  }
  return program;
}
