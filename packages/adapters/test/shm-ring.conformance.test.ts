import { spawn } from 'node:child_process';

import { firstValueFrom } from 'rxjs';
import { afterEach, describe, it } from 'vitest';

import { open } from '../src/index.js';
import { CHANNEL_ENV } from '../src/pipe/pipe-link.js';
import { conformanceCases, type ConformanceTarget } from '../src/testkit/index.js';
import { existingShm, removeShm, shmName } from './shm-support.js';

afterEach(removeShm);

// The default geometry: 64 slots of 64 KiB per direction.
const SLOT_SIZE = 65536;

const rings: ConformanceTarget = {
  name: 'shm-ring',
  maxMessageSize: SLOT_SIZE,
  pair(options = {}) {
    // The first of the two to be used creates the ring; the other joins it.
    const uri = `shm:${shmName()}`;
    return { writer: open(uri, options), reader: open(uri, options) };
  },
  spawn(args) {
    // The child gets the same URI: whichever process opens first creates the ring.
    const uri = `shm:${shmName()}`;
    const channel = open(uri);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [CHANNEL_ENV]: uri },
    });
    return { channel, child };
  },
  snapshot: () => existingShm(),
  systemError: () =>
    firstValueFrom(open(`shm:${shmName()}?create=never`)).then(
      () => undefined,
      (error: unknown) => error,
    ),
};

describe('shm ring conformance', () => {
  for (const c of conformanceCases(rings)) it(c.name, c.run, c.timeoutMs);
});
