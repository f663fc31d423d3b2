/**
 * The rxipc side of the lock bench: `lock-peer MECH MODE ROLE WARMUP COUNT ARGS...`, the same
 * arguments as the C baseline (`bench-c/locks.c`).
 *
 * - `pingpong a|b`: round trips between two processes over two semaphores (a posts "ping" and
 *   waits for "pong"; b the reverse), with the adapters' `post()` and `wait()`: a wait that
 *   cannot be satisfied at once blocks in a waiter thread and wakes the event loop.
 * - `throughput solo`: uncontended acquisitions through the reactive API, each one
 *   `acquire().subscribe()` then `unsubscribe()` (a robust mutex, which always locks in its
 *   waiter thread: `acquirePermit`, `release()`, `settled()`).
 *
 * Prints `{"event":"ready"}` when set up, and the timing role the result line.
 */
import { firstValueFrom, type Observable } from 'rxjs';

import {
  acquirePermit,
  fileLock,
  posixSemaphore,
  robustMutex,
  sharedSemaphore,
  sysvSemaphoreSet,
  type Permit,
} from '@rxipc/adapters';
import { native } from '@rxipc/native';

import { fail, reportReady } from './protocol.js';

const [mech, mode, role, warmupText, countText, ...args] = process.argv.slice(2);
const warmup = Number(warmupText);
const count = Number(countText);
if (mech === undefined || mode === undefined || role === undefined || !(count > 0)) {
  fail('usage: lock-peer MECH pingpong|throughput a|b|solo WARMUP COUNT ARGS...');
}

function report(seconds: number): void {
  process.stdout.write(
    `${JSON.stringify({ event: 'result', messages: count, bytes: 0, seconds })}\n`,
  );
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** A segment shared through an inherited memfd (fd 3). */
function inherited(fd: string): { mapping: ReturnType<typeof native.shmMap> } {
  return { mapping: native.shmMap(native.fdAdopt(Number(fd))) };
}

async function pingPong(): Promise<void> {
  let post: () => void;
  let wait: () => Observable<void>;
  let close: () => void;
  if (mech === 'posix-sem') {
    const ping = posixSemaphore({ name: args[0]!, create: false });
    const pong = posixSemaphore({ name: args[1]!, create: false });
    const [mine, theirs] = role === 'a' ? [pong, ping] : [ping, pong];
    post = () => theirs.post();
    wait = () => mine.wait();
    close = () => {
      ping.close();
      pong.close();
    };
  } else if (mech === 'sysv-sem') {
    const set = sysvSemaphoreSet({ id: Number(args[0]) });
    const [mine, theirs] = role === 'a' ? [1, 0] : [0, 1];
    post = () => set.post(theirs);
    wait = () => set.wait({ num: mine });
    close = () => set.close();
  } else {
    fail(`no ping-pong for ${mech}`);
  }
  reportReady();
  let start = 0;
  for (let i = 0; i < warmup + count; i++) {
    if (i === warmup) start = now();
    if (role === 'a') {
      post();
      await firstValueFrom(wait());
    } else {
      await firstValueFrom(wait());
      post();
    }
  }
  if (role === 'a') report(now() - start);
  close();
}

async function throughput(): Promise<void> {
  let acquire: () => Observable<Permit> | Promise<void>;
  let close: () => Promise<void> | void;
  switch (mech) {
    case 'posix-sem': {
      const sem = posixSemaphore({ name: args[0]!, create: false });
      acquire = () => sem.acquire();
      close = () => sem.close();
      break;
    }
    case 'shared-sem': {
      const sem = sharedSemaphore({ segment: inherited(args[0]!), offset: 0 });
      acquire = () => sem.acquire();
      close = () => sem.close();
      break;
    }
    case 'sysv-sem': {
      const set = sysvSemaphoreSet({ id: Number(args[0]) });
      acquire = () => set.acquire();
      close = () => set.close();
      break;
    }
    case 'flock':
    case 'ofd': {
      const lock = fileLock({ path: args[0]!, type: mech === 'flock' ? 'flock' : 'ofd' });
      acquire = () => lock.acquire();
      close = () => lock.close();
      break;
    }
    case 'robust-mutex': {
      const mutex = robustMutex({ segment: inherited(args[0]!), offset: 0 });
      acquire = async () => {
        (await acquirePermit(mutex)).release();
        await mutex.settled();
      };
      close = () => mutex.close();
      break;
    }
    default:
      fail(`unknown mechanism ${mech}`);
  }
  reportReady();
  let start = 0;
  for (let i = 0; i < warmup + count; i++) {
    if (i === warmup) start = now();
    const acquisition = acquire();
    if (acquisition instanceof Promise) {
      await acquisition;
    } else {
      // Uncontended: the permit arrives during subscribe(); unsubscribing releases it.
      let held = false;
      acquisition.subscribe(() => (held = true)).unsubscribe();
      if (!held) fail(`${mech}: an uncontended acquisition did not succeed at once`);
    }
  }
  report(now() - start);
  await close();
}

(mode === 'pingpong' ? pingPong() : throughput()).catch(fail);
