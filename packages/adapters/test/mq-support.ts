/**
 * Helpers for the message-queue tests: names and keys that are unique to this test process
 * and removed after each test (whatever the test did), and C peers compiled on demand.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { native, type SysvMsgHandle } from '@rxipc/native';

const usedNames = new Set<string>();
const usedKeys = new Set<number>();
const usedIds = new Set<number>();
let counter = 0;

/** A POSIX queue name for this test process: `/rxipc-test-<pid>-<n>`. */
export function queueName(): string {
  const name = `/rxipc-test-${process.pid}-${++counter}`;
  usedNames.add(name);
  return name;
}

/** A System V key nobody else uses: `0x7e` then 24 bits from the pid and a counter. */
export function sysvKey(): number {
  const key = (0x7e000000 | ((process.pid & 0xffff) << 8) | (++counter & 0xff)) >>> 0;
  usedKeys.add(key);
  return key;
}

/** A key as URIs and `ipcs -q` write it: `0x7e123401`. */
export function keyLabelOf(key: number): string {
  return `0x${(key >>> 0).toString(16).padStart(8, '0')}`;
}

/** Records a System V queue identifier (an IPC_PRIVATE queue) for removal after the test. */
export function trackSysvId(id: number): void {
  usedIds.add(id);
}

/** Whether a POSIX queue of that name exists (an mq_open probe: /dev/mqueue is not mounted). */
export function queueExists(name: string): boolean {
  try {
    native.fdClose(native.mqOpen(name, { read: true }));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

/** The queues of this process that exist now, by name (for leak checks). */
export function existingQueues(): string[] {
  return [...usedNames].filter(queueExists);
}

/** The System V queue of `key`, if it exists. */
export function sysvQueue(key: number): SysvMsgHandle | undefined {
  try {
    return native.msgget(key);
  } catch {
    return undefined;
  }
}

/** Removes every queue this process's tests named or created. For `afterEach`. */
export function removeQueues(): void {
  for (const name of usedNames) {
    try {
      native.mqUnlink(name);
    } catch {
      // not there: fine
    }
  }
  const handles: SysvMsgHandle[] = [];
  for (const key of usedKeys) {
    const handle = sysvQueue(key);
    if (handle !== undefined) handles.push(handle);
  }
  for (const id of usedIds) {
    try {
      handles.push(native.msgOpenId(id));
    } catch {
      // gone already
    }
  }
  for (const handle of handles) {
    try {
      native.msgRmid(handle);
    } catch {
      // gone already
    }
    native.msgClose(handle);
  }
  usedIds.clear();
}

const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
let work: string | undefined;

const compiled = new Map<string, string>();

/** Compiles `fixtures/<name>.c` (once per process) and returns the program's path. */
export function cPeer(name: string): string {
  const known = compiled.get(name);
  if (known !== undefined) return known;
  mkdirSync(cache, { recursive: true });
  work ??= mkdtempSync(path.join(cache, 'mq-peers-'));
  const program = path.join(work, name);
  const source = new URL(`./fixtures/${name}.c`, import.meta.url).pathname;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', program, source, '-lrt'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`cc failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`, {
      cause: error,
    });
  }
  compiled.set(name, program);
  return program;
}

/** Removes the compiled peers. For `afterAll`. */
export function removePeers(): void {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  work = undefined;
  compiled.clear();
}

/**
 * Writes a TypeScript snippet that imports the adapters from source (as `rx`) and rxjs, and
 * returns the node arguments that run it.
 */
export function nodeScript(name: string, body: string): string[] {
  mkdirSync(cache, { recursive: true });
  work ??= mkdtempSync(path.join(cache, 'mq-peers-'));
  const file = path.join(work, `${name}.mts`);
  const adapters = new URL('../src/index.ts', import.meta.url).pathname;
  writeFileSync(
    file,
    `import * as rx from ${JSON.stringify(adapters)};\nimport * as rxjs from 'rxjs';\n${body}\n`,
  );
  return ['--import', 'tsx', '--conditions=@rxipc/source', file];
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
