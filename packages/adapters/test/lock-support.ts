/**
 * Helpers for the semaphore and lock tests: names, keys and files unique to this test process
 * and removed after each test whatever it did (`cleanupLocks` in `afterEach`), child
 * processes that run a TypeScript snippet against the adapters' sources, and C peers compiled
 * on demand.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { native } from '@rxipc/native';

import { nodeArgsFor } from '../src/testkit/process.js';

let counter = 0;
const semNames = new Set<string>();
const keys = new Set<number>();
const ids = new Set<number>();
const children = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];

// Inside the package, so that child scripts resolve rxjs through its node_modules.
const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
/** A directory for this test file's scripts, lock files and C programs. */
export const work = mkdtempSync(path.join(cache, 'locks-'));

/** A POSIX semaphore name for this test process: `/rxipc-test-<pid>-<tag>-<n>`. */
export function semName(tag = 'sem'): string {
  const name = `/rxipc-test-${process.pid}-${tag}-${++counter}`;
  semNames.add(name);
  return name;
}

/** Whether the named semaphore exists (`/dev/shm/sem.NAME`). */
export function semExists(name: string): boolean {
  return existsSync(`/dev/shm/sem.${name.slice(1)}`);
}

/** A System V key for this test process: `0x5e`, then 24 bits from the pid and a counter. */
export function semKey(): number {
  const key = (0x5e000000 | ((process.pid & 0xffff) << 8) | (++counter & 0xff)) >>> 0;
  keys.add(key);
  return key;
}

/** Records a set id (a private set) for removal after the test. */
export function trackSetId(id: number): void {
  ids.add(id);
}

/** A lock file path in the work directory (removed with it). */
export function lockPath(tag = 'lock'): string {
  return path.join(work, `${tag}-${++counter}.lock`);
}

/** Runs `fn` after the current test, before the names are removed. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

/**
 * Kills the children, runs the registered cleanups, then removes every semaphore and set this
 * process named or tracked. For `afterEach`.
 */
export function cleanupLocks(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // best effort: the test may have closed it already
    }
  }
  for (const name of semNames) {
    try {
      native.semUnlink(name);
    } catch {
      // not created, or removed by the test
    }
  }
  semNames.clear();
  for (const key of keys) {
    try {
      const set = native.sysvSemGet(key, 0);
      native.sysvSemRemove(set);
      native.sysvSemClose(set);
    } catch {
      // not created, or removed by the test
    }
  }
  keys.clear();
  for (const id of ids) {
    try {
      const set = native.sysvSemOpenId(id);
      native.sysvSemRemove(set);
      native.sysvSemClose(set);
    } catch {
      // gone
    }
  }
  ids.clear();
}

/** Removes the work directory (for `afterAll`). */
export function removeWork(): void {
  rmSync(work, { recursive: true, force: true });
}

/** A running child and its output so far. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first stdout line that includes `text` (rejects if the child exits). */
  line(text: string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name) when the child exits. */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
}

/**
 * Runs a TypeScript snippet in a child Node process. The snippet sees `lib` (the semaphore,
 * set, file-lock, permit and robust-mutex modules), `native` and `rxjs`. Killed by
 * `cleanupLocks`.
 */
export function runScript(name: string, body: string, options: { stdio?: unknown[] } = {}): Child {
  const file = path.join(work, `${name}-${++counter}.mts`);
  const src = (p: string): string =>
    JSON.stringify(new URL(`../src/${p}`, import.meta.url).pathname);
  writeFileSync(
    file,
    `import * as rxjs from 'rxjs';
import { native } from '@rxipc/native';
import * as lib_semaphore from ${src('semaphore/index.ts')};
import * as lib_sysv from ${src('sysv-sem/index.ts')};
import * as lib_fileLock from ${src('file-lock/index.ts')};
import * as lib_permit from ${src('permit/index.ts')};
import * as lib_mutex from ${src('robust-mutex/index.ts')};
const lib = { ...lib_semaphore, ...lib_sysv, ...lib_fileLock, ...lib_permit, ...lib_mutex };
void rxjs; void native; void lib;
${body}
`,
  );
  const child = spawn(process.execPath, nodeArgsFor(new URL(`file://${file}`)), {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: (options.stdio as never) ?? ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ?? code ?? -1);
    }),
  );
  return {
    process: child,
    exited,
    stdout: () => out,
    stderr: () => err,
    line(text, timeoutMs = 15_000) {
      return new Promise<string>((resolve, reject) => {
        const check = (): boolean => {
          const found = out.split('\n').find((l) => l.includes(text));
          if (found === undefined) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const onData = (): void => void check();
        const onExit = (): void => {
          if (check()) return;
          cleanup();
          reject(new Error(`the child exited before printing ${text}: ${out} ${err}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no line with ${text} in ${timeoutMs} ms: ${out} ${err}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', onData);
        child.on('exit', onExit);
        check();
      });
    },
  };
}

/** Compiles a C program (`cc -O2`) into the work directory and returns its path. */
export function compileC(name: string, source: string, libraries: string[] = []): string {
  const file = path.join(work, `${name}.c`);
  const executable = path.join(work, name);
  writeFileSync(file, source);
  execFileSync('cc', ['-O2', '-Wall', '-o', executable, file, ...libraries], { stdio: 'pipe' });
  return executable;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition()` holds, polling every millisecond; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

/** Removes a file if it exists. */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone
  }
}
