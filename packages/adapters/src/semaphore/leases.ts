/**
 * The recovery path for POSIX named semaphores, which have no undo (sem_overview(7)): a
 * semaphore opened with `leases: true` records every permit it holds in the registry of named
 * objects (owner pid and start time), and forgets the record on release. The janitor below
 * posts back the counts whose holder is gone.
 */
import { native as defaultBinding, type Binding } from '@rxipc/native';

import { claimNamedObject, listNamedObjects } from '../registry/named-objects.js';
import { registerRemover } from '../registry/removers.js';
import { SEMAPHORE_LEASE_KIND } from './posix-semaphore.js';

/** One lease given back by {@link reclaimSemaphoreLeases}. */
export interface ReclaimedLease {
  /** The semaphore's name. */
  readonly semaphore: string;
  /** The process that held the count and is gone. */
  readonly pid: number;
  /** `'posted'`: the count was given back; `'gone'`: the semaphore no longer exists. */
  readonly outcome: 'posted' | 'gone';
}

/** Options for {@link reclaimSemaphoreLeases}. */
export interface ReclaimOptions {
  /** Only leases of this semaphore (`/somename`). Default: every semaphore's. */
  readonly name?: string;
  /** The native binding (tests pass a fake). Default: `@rxipc/native`. */
  readonly binding?: Binding;
}

/**
 * Gives back the counts that dead holders left taken: for each lease in the registry whose
 * owner no longer runs (same pid and start time, so a recycled pid is no owner), posts the
 * semaphore once and drops the lease. Leases of live processes are left alone.
 *
 * Safe to run from several processes at once: each lease is claimed by an atomic rename
 * before it is posted, so no count is given back twice. A janitor killed between claiming and
 * posting loses that one count.
 *
 * @example
 * ```ts
 * const sem = posixSemaphore({ name: '/workers', initial: 4, leases: true });
 * // ... later, in any process (or `rxipc clean`):
 * for (const lease of reclaimSemaphoreLeases({ name: '/workers' })) console.log(lease);
 * ```
 * @throws A system error other than `ENOENT` from `sem_open` or `sem_post` (`EACCES`,
 * `EOVERFLOW`); the lease in hand is then left claimed, not retried.
 */
export function reclaimSemaphoreLeases(options: ReclaimOptions = {}): ReclaimedLease[] {
  const binding = options.binding ?? defaultBinding;
  const reclaimed: ReclaimedLease[] = [];
  for (const entry of listNamedObjects()) {
    if (entry.kind !== SEMAPHORE_LEASE_KIND || entry.ownerAlive) continue;
    const semaphore = entry.name.slice(0, entry.name.lastIndexOf('#'));
    if (options.name !== undefined && semaphore !== options.name) continue;
    const drop = claimNamedObject(entry.kind, entry.name);
    if (drop === undefined) continue; // another janitor took it
    let outcome: ReclaimedLease['outcome'] = 'posted';
    try {
      const handle = binding.semOpen(semaphore, {});
      try {
        binding.semPost(handle);
      } finally {
        binding.semClose(handle);
      }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      outcome = 'gone';
    }
    drop();
    reclaimed.push({ semaphore, pid: entry.pid, outcome });
  }
  return reclaimed;
}

// `rxipc clean` gives back a dead holder's count the same way (claiming first, so that it and
// reclaimSemaphoreLeases never both post one lease).
registerRemover(SEMAPHORE_LEASE_KIND, {
  remove(name) {
    const drop = claimNamedObject(SEMAPHORE_LEASE_KIND, name);
    if (drop === undefined) return 'missing';
    try {
      const handle = defaultBinding.semOpen(name.slice(0, name.lastIndexOf('#')), {});
      try {
        defaultBinding.semPost(handle);
      } finally {
        defaultBinding.semClose(handle);
      }
      return 'removed';
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return 'missing';
      throw error;
    } finally {
      drop();
    }
  },
});
