/**
 * The janitor: removes the named kernel objects whose owner died without removing them
 * (killed with SIGKILL, or crashed past its exit handlers), and never a live process's.
 * Ownership comes from the registry of named objects (owner pid and start time, so a recycled
 * pid is not mistaken for the owner); removal from each mechanism's remover in
 * `@rxipc/adapters`.
 */
import {
  forgetNamedObject,
  listNamedObjects,
  type NamedObjectEntry,
  removerFor,
} from '@rxipc/adapters';

/** A registered object as `rxipc ls` shows it. */
export interface NamedObjectView extends NamedObjectEntry {
  /** `'alive'`: its owner runs; `'orphaned'`: its owner is dead. */
  readonly state: 'alive' | 'orphaned';
  /** Whether the kernel object exists now; `undefined` when its kind cannot tell. */
  readonly exists: boolean | undefined;
}

/** What {@link cleanOrphans} did, object by object. */
export interface CleanReport {
  /** Orphans that existed and were removed (or would be, with `dryRun`). */
  readonly removed: readonly NamedObjectEntry[];
  /** Orphans whose object was gone already: only their record was forgotten. */
  readonly forgotten: readonly NamedObjectEntry[];
  /** Orphans left in place, with the reason (no remover for the kind, name taken over). */
  readonly kept: readonly { readonly entry: NamedObjectEntry; readonly reason: string }[];
  /** Live processes' objects, untouched. */
  readonly alive: number;
}

/**
 * Every object in the registry, with its owner's state and whether the object exists.
 *
 * @example
 * ```ts
 * for (const o of namedObjects()) console.log(o.kind, o.name, o.pid, o.state);
 * ```
 */
export function namedObjects(): NamedObjectView[] {
  return listNamedObjects().map((entry) => {
    let exists: boolean | undefined;
    try {
      exists = removerFor(entry.kind)?.exists?.(entry.name);
    } catch {
      exists = undefined;
    }
    return { ...entry, state: entry.ownerAlive ? 'alive' : 'orphaned', exists };
  });
}

/**
 * Removes every registered object whose owner is dead, and forgets its record. Each orphan is
 * checked again right before its removal (a live process may have taken the name over
 * since). An object whose removal fails (`EPERM`, or a name now used by something of another
 * type) is kept, with the reason, and its record stays.
 *
 * @example
 * ```ts
 * const report = cleanOrphans();
 * console.log(`removed ${report.removed.length} objects left by dead processes`);
 * ```
 * @throws {Error} only when the registry directory cannot be read.
 */
export function cleanOrphans(options: { readonly dryRun?: boolean } = {}): CleanReport {
  const removed: NamedObjectEntry[] = [];
  const forgotten: NamedObjectEntry[] = [];
  const kept: { entry: NamedObjectEntry; reason: string }[] = [];
  let alive = 0;
  for (const entry of listNamedObjects()) {
    if (entry.ownerAlive) {
      alive++;
      continue;
    }
    const remover = removerFor(entry.kind);
    if (remover === undefined) {
      kept.push({ entry, reason: `no remover for the kind ${entry.kind}` });
      continue;
    }
    if (options.dryRun === true) {
      removed.push(entry);
      continue;
    }
    const now = listNamedObjects().find((e) => e.kind === entry.kind && e.name === entry.name);
    if (now === undefined) continue; // removed meanwhile
    if (now.ownerAlive || now.pid !== entry.pid || now.startTime !== entry.startTime) {
      alive++;
      continue;
    }
    try {
      const outcome = remover.remove(entry.name);
      forgetNamedObject(entry.kind, entry.name);
      (outcome === 'removed' ? removed : forgotten).push(entry);
    } catch (error) {
      kept.push({ entry, reason: (error as Error).message ?? String(error) });
    }
  }
  return { removed, forgotten, kept, alive };
}

let janitorRan = false;

/**
 * Runs {@link cleanOrphans} once per process, quietly (a pipeline calls it as it starts).
 * `RXIPC_JANITOR=0` in the environment turns it off.
 */
export function runJanitorOnce(): void {
  if (janitorRan || process.env['RXIPC_JANITOR'] === '0') return;
  janitorRan = true;
  try {
    cleanOrphans();
  } catch {
    // The janitor is a courtesy: a registry it cannot read must not stop a pipeline.
  }
}
