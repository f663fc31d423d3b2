/**
 * Helpers for the shared-memory tests: names that are unique to this test process
 * (`/rxipc-test-<pid>-shm-<n>`) and removed after each test whatever it did, System V
 * segments tracked the same way, and C programs compiled on demand.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach } from 'vitest';

import { native } from '@rxipc/native';

import type { Channel } from '../src/index.js';

const usedNames = new Set<string>();
const usedSysvIds = new Set<number>();
let counter = 0;

/** A POSIX shared-memory name for this test process. */
export function shmName(): string {
  const name = `/rxipc-test-${process.pid}-shm-${++counter}`;
  usedNames.add(name);
  return name;
}

/** Records a System V segment id for removal after the test. */
export function trackSysvId(id: number): void {
  usedSysvIds.add(id);
}

/** The names this process used that exist in /dev/shm now (for leak checks). */
export function existingShm(): string[] {
  return [...usedNames].filter((name) => existsSync(`/dev/shm${name}`));
}

/** Removes every segment this process's tests named or created. For `afterEach`. */
export function removeShm(): void {
  for (const name of usedNames) {
    try {
      native.shmUnlink(name);
    } catch {
      // not there: fine
    }
  }
  for (const id of usedSysvIds) {
    try {
      native.sysvShmRemove(native.sysvShmOpenId(id));
    } catch {
      // gone already
    }
  }
  usedSysvIds.clear();
}

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
let work: string | undefined;
const compiled = new Map<string, string>();

/**
 * Compiles a C program (once per process) and returns its path: `fixtures/<name>.c`, or a
 * source path relative to this directory.
 */
export function cProgram(name: string): string {
  const known = compiled.get(name);
  if (known !== undefined) return known;
  mkdirSync(cache, { recursive: true });
  work ??= mkdtempSync(path.join(cache, 'shm-peers-'));
  const source = name.endsWith('.c')
    ? path.resolve(path.dirname(fileURLToPath(import.meta.url)), name)
    : path.join(fixtures, `${name}.c`);
  const output = path.join(work, path.basename(source, '.c'));
  execFileSync('cc', ['-O2', '-Wall', '-o', output, source, '-lrt']);
  compiled.set(name, output);
  return output;
}

/** Node arguments that run a TypeScript fixture from source (tsx, the source condition). */
export function tsFixtureArgs(name: string): string[] {
  return ['--import', 'tsx', '--conditions=@rxipc/source', path.join(fixtures, name)];
}

/**
 * Registers an `afterEach` that kills the children, closes the channels (both sets are then
 * emptied) and removes this process's segments, whatever the test did. Returns the sets for
 * tests to fill.
 */
export function cleanUpAfterEach(): { children: Set<ChildProcess>; channels: Set<Channel> } {
  const children = new Set<ChildProcess>();
  const channels = new Set<Channel>();
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    await Promise.all([...channels].map((channel) => channel.close()));
    channels.clear();
    removeShm();
  });
  return { children, channels };
}
