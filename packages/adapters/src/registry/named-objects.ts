/**
 * The registry of named kernel objects rxipc creates (FIFOs, socket files, POSIX queues,
 * semaphores and segments, System V keys). Each is recorded, with its owner's pid and the
 * owner's start time (so a recycled pid is not mistaken for the owner), as one small JSON file
 * in the registry directory; the record goes when the object is removed. Objects still open
 * when the process exits normally are removed by an `exit` hook, and on SIGINT, SIGTERM and
 * SIGHUP by signal handlers (see `signal-cleanup.ts` for the policy); what a killed process
 * left is found by {@link listNamedObjects} (owner dead) and removed by the janitor
 * (`rxipc clean`) with the removers of `removers.ts`.
 *
 * Directory: `$RXIPC_REGISTRY_DIR`, else `$XDG_RUNTIME_DIR/rxipc`, else `/tmp/rxipc-<uid>`;
 * created with mode 0700. Records are bounded by the objects that exist.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { installSignalCleanup } from './signal-cleanup.js';

/** The kinds of named object. */
export type NamedObjectKind =
  | 'fifo'
  | 'unix-socket'
  | 'posix-mq'
  | 'posix-sem'
  | 'posix-shm'
  | 'sysv-mq'
  | 'sysv-sem'
  | 'sysv-shm'
  | (string & {});

/** One record: what, where, and who owns it. */
export interface NamedObjectRecord {
  readonly kind: NamedObjectKind;
  /** The object's name: a path, `/queue`, or a System V key/id such as `0x1234` or `id:5`. */
  readonly name: string;
  readonly pid: number;
  /** The owner's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22). */
  readonly startTime: number;
  readonly createdAt: string;
  /** Permission bits requested at creation, as octal text (`'0600'`). */
  readonly mode?: string;
}

/** A record plus whether its owner still runs. */
export interface NamedObjectEntry extends NamedObjectRecord {
  readonly ownerAlive: boolean;
}

/** Removes one object; given to {@link registerNamedObject} and run at exit if still due. */
export type Remover = () => void;

const live = new Map<string, Remover>();
let exitHookInstalled = false;

/** The registry directory (created on demand, mode 0700). */
export function registryDir(): string {
  const dir =
    process.env['RXIPC_REGISTRY_DIR'] ??
    (process.env['XDG_RUNTIME_DIR'] !== undefined
      ? path.join(process.env['XDG_RUNTIME_DIR'], 'rxipc')
      : path.join(tmpdir(), `rxipc-${process.getuid?.() ?? 0}`));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Records an object this process created. `remove` deletes the kernel object; it runs at
 * normal exit if the object was not released before. Returns the release function: call it
 * after removing the object yourself (it forgets the record), or call `release(true)` to
 * have it run `remove` too.
 */
export function registerNamedObject(
  record: { kind: NamedObjectKind; name: string; mode?: number },
  remove: Remover,
): (removeNow?: boolean) => void {
  const full: NamedObjectRecord = {
    kind: record.kind,
    name: record.name,
    pid: process.pid,
    startTime: startTimeOf(process.pid) ?? 0,
    createdAt: new Date().toISOString(),
    ...(record.mode !== undefined ? { mode: `0${record.mode.toString(8)}` } : {}),
  };
  const file = path.join(registryDir(), recordFileName(full.kind, full.name));
  // Write-then-rename, so a reader never sees half a record.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(full), { mode: 0o600 });
  renameSync(temporary, file);
  live.set(file, remove);
  installExitHook();
  let released = false;
  return (removeNow = false) => {
    if (released) return;
    released = true;
    live.delete(file);
    try {
      if (removeNow) remove();
    } finally {
      forgetFile(file);
    }
  };
}

/** Every recorded object, with whether its owner is alive (same pid and same start time). */
export function listNamedObjects(): NamedObjectEntry[] {
  const dir = registryDir();
  const entries: NamedObjectEntry[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json')) continue;
    let record: NamedObjectRecord;
    try {
      record = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as NamedObjectRecord;
    } catch {
      continue; // removed meanwhile, or not ours
    }
    entries.push({ ...record, ownerAlive: isAlive(record.pid, record.startTime) });
  }
  return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Forgets the record of an object (after the janitor removed it). */
export function forgetNamedObject(kind: NamedObjectKind, name: string): void {
  forgetFile(path.join(registryDir(), recordFileName(kind, name)));
}

/**
 * Claims a record for a janitor: renames its file out of the listing, atomically, so that of
 * several janitors acting on the same record exactly one gets it. Returns the function that
 * drops the claimed record for good once the janitor has done its work, or `undefined` when
 * the record is gone (another janitor claimed it, or its owner released it meanwhile).
 */
export function claimNamedObject(kind: NamedObjectKind, name: string): (() => void) | undefined {
  const file = path.join(registryDir(), recordFileName(kind, name));
  const claimed = `${file}.claimed-${process.pid}`;
  try {
    renameSync(file, claimed);
  } catch {
    return undefined;
  }
  return () => forgetFile(claimed);
}

/** True when `pid` runs and started at `startTime` (0: start time unknown, pid alone decides). */
export function isAlive(pid: number, startTime: number): boolean {
  const actual = startTimeOf(pid);
  if (actual === undefined) return false;
  return startTime === 0 || actual === startTime;
}

/** A process's start time in clock ticks since boot, or `undefined` if it does not exist. */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]); // field 22 overall
  } catch {
    return undefined;
  }
}

function recordFileName(kind: string, name: string): string {
  return `${kind}.${Buffer.from(name).toString('base64url')}.json`;
}

function forgetFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Removes every object this process registered and has not released, and forgets their
 * records: what the `exit` hook and the signal handlers (see `signal-cleanup.ts`) run.
 */
export function releaseAllNamedObjects(): void {
  for (const [file, remove] of live) {
    try {
      remove();
    } catch {
      // the object may already be gone; the record goes regardless
    }
    forgetFile(file);
  }
  live.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', releaseAllNamedObjects);
  installSignalCleanup(releaseAllNamedObjects);
}
