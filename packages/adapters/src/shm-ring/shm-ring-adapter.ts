import { type Binding, native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import type { MessageTransport } from '../channel/transport.js';
import { DEFAULT_SLOT_SIZE, DEFAULT_SLOTS, ringGeometry } from './layout.js';
import { COPY_ALONE, shmRingTransport } from './shm-ring-transport.js';
import { parseShmRingUri, SHM_RING_OPTIONS, type ShmRingEndpoint } from './uri.js';

/**
 * `shm:/name` is a shared-memory ring between two processes (or two channels of one): one
 * POSIX segment holding a ring per direction. The first to open it creates it, the second
 * joins (and removes the name, which has done its job). See {@link shmRing}.
 */
export const shmRingAdapter = defineAdapter<ShmRingEndpoint>({
  scheme: 'shm',
  kind: 'message',
  description: 'a shared-memory ring between two processes (zero system calls while both are busy)',
  options: SHM_RING_OPTIONS,
  parse: parseShmRingUri,
  connect: (endpoint, signal) => connectShmRing(endpoint, native, signal),
});

/** How long a joiner waits for a creator to finish setting the segment up, by default. */
const READY_TIMEOUT_MS = 2000;

let mallocTuned = false;

/**
 * Copying a large message out of the ring needs a fresh buffer. With glibc's defaults, large
 * blocks get new pages each time (their own mmap, or a heap that was trimmed when the garbage
 * collector freed the previous buffers in bulk), and the page faults cost several times the
 * copy: 1 MiB copied into fresh memory took 400-700 us on the bench machine, into reused
 * memory 24 us. So, once per process: blocks up to 32 MiB come from the heap, and up to
 * 256 MiB of free heap stays with the process. Not when the program set MALLOC_* itself.
 */
function tuneMallocOnce(binding: Binding): void {
  if (mallocTuned) return;
  mallocTuned = true;
  const env = process.env;
  if (env['MALLOC_MMAP_THRESHOLD_'] !== undefined || env['MALLOC_TRIM_THRESHOLD_'] !== undefined) {
    return;
  }
  binding.mallopt({ mmapThreshold: 32 * 1024 * 1024, trimThreshold: 256 * 1024 * 1024 });
}

/**
 * Opens the ring an endpoint names (creating or joining it) and returns its transport, or a
 * promise of it while a joiner waits (up to `readyTimeoutMs`, 2 s by default, without
 * blocking) for the creator to finish setting the segment up. Aborting `signal` (the channel
 * does on `close()`) stops that wait at once, releasing what the join opened.
 */
export function connectShmRing(
  endpoint: ShmRingEndpoint,
  binding: Binding = native,
  signal?: AbortSignal,
): MessageTransport | Promise<MessageTransport> {
  // The geometry is checked before anything is created, so an impossible one costs nothing.
  ringGeometry(endpoint.slots ?? DEFAULT_SLOTS, endpoint.slotSize ?? DEFAULT_SLOT_SIZE);
  if ((endpoint.tuneMalloc ?? true) && (endpoint.slotSize ?? DEFAULT_SLOT_SIZE) >= COPY_ALONE) {
    tuneMallocOnce(binding);
  }
  return shmRingTransport(
    {
      name: endpoint.name,
      ...(endpoint.slots === undefined ? {} : { slots: endpoint.slots }),
      ...(endpoint.slotSize === undefined ? {} : { slotSize: endpoint.slotSize }),
      create: endpoint.create ?? 'auto',
      mode: endpoint.mode ?? 0o600,
      readyTimeoutMs: endpoint.readyTimeoutMs ?? READY_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    },
    {
      zeroCopy: endpoint.zeroCopy ?? false,
      zeroCopyMinSize: endpoint.zeroCopyMinSize ?? 65536,
      spinMicros: endpoint.spinMicros ?? 0,
      livenessMs: endpoint.livenessMs ?? 200,
    },
    binding,
  );
}
