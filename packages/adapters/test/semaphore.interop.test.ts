import { spawn } from 'node:child_process';

import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { posixSemaphore } from '../src/semaphore/index.js';
import { sysvSemaphoreSet } from '../src/sysv-sem/index.js';
import {
  cleanupLocks,
  compileC,
  onCleanup,
  removeWork,
  semName,
  trackSetId,
} from './lock-support.js';

afterEach(cleanupLocks);
afterAll(removeWork);

const ROUNDS = 2000;

// The C side of the ping-pong: waits on "ping", posts "pong", ROUNDS times, with the plain
// system calls and no rxipc code. Prints the rounds it did.
const PEER = String.raw`
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>

int main(int argc, char** argv) {
    int rounds = atoi(argv[argc - 1]);
    if (strcmp(argv[1], "posix") == 0) {
        sem_t* ping = sem_open(argv[2], 0);
        sem_t* pong = sem_open(argv[3], 0);
        if (ping == SEM_FAILED || pong == SEM_FAILED) { perror("sem_open"); return 2; }
        for (int i = 0; i < rounds; i++) {
            if (sem_wait(ping) != 0) { perror("sem_wait"); return 3; }
            if (sem_post(pong) != 0) { perror("sem_post"); return 3; }
        }
    } else {
        int id = atoi(argv[2]);
        struct sembuf take = {0, -1, 0};
        struct sembuf give = {1, +1, 0};
        for (int i = 0; i < rounds; i++) {
            if (semop(id, &take, 1) != 0) { perror("semop"); return 3; }
            if (semop(id, &give, 1) != 0) { perror("semop"); return 3; }
        }
    }
    printf("%d\n", rounds);
    return 0;
}
`;

function runPeer(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const executable = compileC('sem-peer', PEER);
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('semaphores shared with a C program', () => {
  it('ping-pongs a POSIX named semaphore pair with a C peer that uses sem_wait and sem_post', async () => {
    const ping = posixSemaphore({ name: semName('ping'), initial: 0 });
    const pong = posixSemaphore({ name: semName('pong'), initial: 0 });
    onCleanup(() => ping.close());
    onCleanup(() => pong.close());
    const peer = runPeer(['posix', ping.name, pong.name, String(ROUNDS)]);
    for (let i = 0; i < ROUNDS; i++) {
      ping.post();
      await firstValueFrom(pong.wait());
    }
    expect(await peer).toEqual({ code: 0, out: `${ROUNDS}\n`, err: '' });
    expect([ping.value(), pong.value()]).toEqual([0, 0]);
  });

  it('ping-pongs a System V set with a C peer that uses semop', async () => {
    const set = sysvSemaphoreSet({ key: 'private', nsems: 2, initial: 0 });
    trackSetId(set.id);
    onCleanup(() => set.close());
    const peer = runPeer(['sysv', String(set.id), String(ROUNDS)]);
    for (let i = 0; i < ROUNDS; i++) {
      set.post(0);
      await firstValueFrom(set.wait({ num: 1 }));
    }
    expect(await peer).toEqual({ code: 0, out: `${ROUNDS}\n`, err: '' });
    expect(set.values()).toEqual([0, 0]);
  });
});
