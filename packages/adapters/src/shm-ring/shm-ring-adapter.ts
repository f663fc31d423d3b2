import { type Binding, native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import type { MessageTransport } from '../channel/transport.js';
import { DEFAULT_SLOT_SIZE, DEFAULT_SLOTS, ringGeometry } from './layout.js';
import { shmRingTransport } from './shm-ring-transport.js';
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
  connect: (endpoint) => connectShmRing(endpoint),
});

/** Opens the ring an endpoint names (creating or joining it) and returns its transport. */
export function connectShmRing(
  endpoint: ShmRingEndpoint,
  binding: Binding = native,
): MessageTransport {
  // The geometry is checked before anything is created, so an impossible one costs nothing.
  ringGeometry(endpoint.slots ?? DEFAULT_SLOTS, endpoint.slotSize ?? DEFAULT_SLOT_SIZE);
  return shmRingTransport(
    {
      name: endpoint.name,
      ...(endpoint.slots === undefined ? {} : { slots: endpoint.slots }),
      ...(endpoint.slotSize === undefined ? {} : { slotSize: endpoint.slotSize }),
      create: endpoint.create ?? 'auto',
      mode: endpoint.mode ?? 0o600,
      readyTimeoutMs: 2000,
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
