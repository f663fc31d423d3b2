/** Does one job (here: a little CPU work and a short wait, as for a database) and says who did it. */
import { setTimeout as sleep } from 'node:timers/promises';

import { defineStage } from '@rxipc/core';

export interface Job {
  readonly id: number;
  readonly priority: number;
}

export interface Done extends Job {
  readonly result: number;
  readonly pid: number;
}

export default defineStage({
  async map(job: Job): Promise<Done> {
    let result = job.id;
    for (let i = 0; i < 20_000; i++) result = (result * 1_103_515_245 + 12_345) % 2_147_483_648;
    await sleep(5);
    return { ...job, result, pid: process.pid };
  },
});
