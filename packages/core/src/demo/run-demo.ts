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
    "Watch the producer slow to the sink's rate while every process stays within a fixed memory bound.\n",
  );
  write(
    `${'t'.padEnd(4)}${ROLES.map((r) => `${r} msg/s`.padStart(16) + 'MB'.padStart(6)).join('')}`,
  );
  let previous = { producer: 0, stage: 0, sink: 0 };
  try {
    for (let t = 1; t <= seconds; t++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const row = ROLES.map((role) => {
        const sample = latest[role];
        const rate = (sample?.count ?? 0) - previous[role];
        return `${rate.toLocaleString('en-US').padStart(16)}${mb(sample?.rss ?? 0).padStart(6)}`;
      });
      previous = {
        producer: latest.producer?.count ?? 0,
        stage: latest.stage?.count ?? 0,
        sink: latest.sink?.count ?? 0,
      };
      write(`${`${t}s`.padEnd(4)}${row.join('')}`);
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
    `\nproduced ${latest.producer?.count ?? 0}, consumed ${latest.sink?.count ?? 0}: ${inFlight} messages in flight, held by two pipes and two bounded queues.`,
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

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
