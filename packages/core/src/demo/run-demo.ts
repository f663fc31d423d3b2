import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { native } from '@rxipc/native';

/** One row of a demo process's report. */
export interface DemoSample {
  readonly role: 'producer' | 'stage' | 'sink';
  readonly count: number;
  readonly pending: number;
  readonly rss: number;
}

/** What the demo saw, for tests and the summary. */
export interface DemoResult {
  readonly seconds: number;
  readonly final: Record<DemoSample['role'], DemoSample>;
  readonly maxRss: Record<DemoSample['role'], number>;
  readonly maxPending: Record<DemoSample['role'], number>;
}

const ROLES = ['producer', 'stage', 'sink'] as const;

/**
 * Runs the three-process pipeline `producer | stage | sink` over two anonymous pipes for
 * `seconds`, printing each process's rate and memory every second. The sink takes 1 ms per
 * message; backpressure through both pipes slows the producer to the sink's rate.
 */
export async function runDemo(
  options: { seconds?: number; write?: (line: string) => void } = {},
): Promise<DemoResult> {
  const seconds = options.seconds ?? 6;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const [aRead, aWrite] = native.pipe({ nonblock: false });
  const [bRead, bWrite] = native.pipe({ nonblock: false });
  const fd = native.fdNumber;
  const children: Record<string, ChildProcess> = {
    producer: startChild('producer', [fd(aWrite)]),
    stage: startChild('stage', [fd(aRead), fd(bWrite)]),
    sink: startChild('sink', [fd(bRead)]),
  };
  for (const end of [aRead, aWrite, bRead, bWrite]) native.fdClose(end);

  const latest = {} as Record<DemoSample['role'], DemoSample>;
  const maxRss = { producer: 0, stage: 0, sink: 0 };
  const maxPending = { producer: 0, stage: 0, sink: 0 };
  const exits: Promise<void>[] = [];
  for (const role of ROLES) {
    const child = children[role]!;
    exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const sample = JSON.parse(line) as DemoSample;
        latest[sample.role] = sample;
        maxRss[sample.role] = Math.max(maxRss[sample.role], sample.rss);
        maxPending[sample.role] = Math.max(maxPending[sample.role], sample.pending);
      } catch {
        write(`(${role}) ${line}`);
      }
    });
  }

  write(
    'rxipc demo: producer | stage | sink, three processes over two pipes; the sink takes 1 ms a message.',
  );
  write(
    "The producer could send millions a second; backpressure holds it to the sink's pace, and the",
  );
  write(
    "messages in flight (two pipes, two bounded queues) and every process's memory stay flat.\n",
  );
  const columns: [string, number][] = [
    ['t', 4],
    ['produced', 10],
    ['staged', 10],
    ['consumed', 10],
    ['in flight', 11],
    ['producer/s', 12],
    ['sink/s', 9],
    ['MB (each)', 14],
  ];
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(columns[i]![1]) : cell.padStart(columns[i]![1])))
      .join('');
  write(row(columns.map(([title]) => title)));
  try {
    for (let t = 1; t <= seconds; t++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const count = (role: DemoSample['role']) => latest[role]?.count ?? 0;
      write(
        row([
          `${t}s`,
          n(count('producer')),
          n(count('stage')),
          n(count('sink')),
          n(count('producer') - count('sink')),
          n(Math.round(count('producer') / t)),
          n(Math.round(count('sink') / t)),
          ROLES.map((role) => mb(latest[role]?.rss ?? 0)).join('/'),
        ]),
      );
    }
  } finally {
    for (const child of Object.values(children)) child.kill('SIGTERM');
    const killer = setTimeout(
      () => Object.values(children).forEach((c) => c.kill('SIGKILL')),
      2000,
    );
    await Promise.all(exits);
    clearTimeout(killer);
  }
  const inFlight = (latest.producer?.count ?? 0) - (latest.sink?.count ?? 0);
  write(
    `\nproduced ${n(latest.producer?.count ?? 0)}, consumed ${n(latest.sink?.count ?? 0)}: ${n(inFlight)} messages in flight, held by two pipes and two bounded queues.`,
  );
  write(`largest memory: ${ROLES.map((r) => `${r} ${mb(maxRss[r])} MB`).join(', ')}.`);
  return { seconds, final: latest, maxRss, maxPending };
}

function startChild(role: string, fds: number[]): ChildProcess {
  const script = new URL(
    import.meta.url.endsWith('.ts') ? './demo-child.ts' : './demo-child.js',
    import.meta.url,
  );
  const path = fileURLToPath(script);
  const args = path.endsWith('.ts')
    ? ['--import', 'tsx', '--conditions=@rxipc/source', path, role]
    : [path, role];
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', ...fds] });
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
