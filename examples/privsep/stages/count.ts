/**
 * Counts the lines and words of a file it is not allowed to open: it asks the broker, which
 * opens the file (if its policy allows) and passes the open descriptor over a Unix socket.
 *
 * The process drops its privileges as it loads (to `nobody`, when started as root), before
 * it reads a single message; so a bug in here cannot reach what the broker does not hand out.
 */
import { readFileSync } from 'node:fs';

import { type Channel, open, takeFds } from '@rxipc/adapters';
import { native } from '@rxipc/native';
import { defineStage, dieWithParent } from '@rxipc/core';
import { firstValueFrom } from 'rxjs';

export interface Counted {
  readonly path: string;
  readonly uid: number;
  /** What opening the file directly gave this process (`'EACCES'` is the point). */
  readonly direct: string;
  readonly granted: boolean;
  readonly reason?: string;
  readonly lines?: number;
  readonly words?: number;
  /** The parent-death signal in force (re-armed after the privilege drop cleared it). */
  readonly pdeathsig: number;
}

const NOBODY = 65534;
if (process.getuid?.() === 0) {
  const parent = process.ppid;
  process.setgroups?.([]);
  process.setgid?.(NOBODY);
  process.setuid?.(NOBODY);
  // Changing credentials clears the parent-death signal (prctl(2)): arm it again.
  dieWithParent(parent);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let broker: Channel | undefined;

export default defineStage({
  // One request at a time per process: each reply answers the request before it.
  concurrency: 1,
  async map(path: string, context): Promise<Counted> {
    const { socket } = context.config as { socket: string };
    // Raw messages, so descriptors can ride on them; `maxFds` lets them in.
    broker ??= open(`unix:${socket}?maxFds=1`);
    const reply = firstValueFrom(broker);
    await broker.send(encoder.encode(JSON.stringify({ open: path })));
    const message = await reply;
    const answer = JSON.parse(decoder.decode(message)) as { ok: boolean; reason?: string };
    const base = {
      path,
      uid: process.getuid?.() ?? -1,
      direct: tryDirect(path),
      pdeathsig: native.getParentDeathSignal(),
    };
    const [file] = takeFds(message);
    if (!answer.ok || file === undefined) {
      return { ...base, granted: false, reason: answer.reason ?? 'no descriptor came' };
    }
    try {
      const text = readFileSync(native.fdNumber(file), 'utf8');
      return {
        ...base,
        granted: true,
        lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
        words: text.split(/\s+/).filter((w) => w !== '').length,
      };
    } finally {
      native.fdClose(file);
    }
  },
});

function tryDirect(path: string): string {
  try {
    readFileSync(path);
    return 'readable';
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  }
}
