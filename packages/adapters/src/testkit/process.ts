import { type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Open descriptors of this process (`/proc/self/fd`), for leak checks. */
export function countOpenFds(): number {
  return readdirSync('/proc/self/fd').length - 1; // minus the one readdir itself opened
}

/**
 * `node` arguments to run `script` (a module URL): plain for `.js`; for a `.ts` source (tests
 * run from source) through tsx with the `@rxipc/source` export condition.
 */
export function nodeArgsFor(script: URL): string[] {
  const path = fileURLToPath(script);
  return /\.m?ts$/.test(path) ? ['--import', 'tsx', '--conditions=@rxipc/source', path] : [path];
}

/** What a peer prints on its last stdout line. */
export interface PeerReport {
  readonly count: number;
  readonly inOrder: boolean;
  readonly maxPending: number;
  readonly rssGrowth: number;
  readonly error?: string;
}

/** Collects a peer's stdout, resolves with its JSON report when it exits 0. Kills it on timeout. */
export function spawnPeer(child: ChildProcess, timeoutMs: number): Promise<PeerReport> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the peer did not finish in ${timeoutMs} ms; stderr: ${err.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`the peer exited with ${signal ?? code}; stderr: ${err.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as PeerReport);
      } catch {
        reject(new Error(`the peer printed no report: ${out.slice(-500)} ${err.slice(-2000)}`));
      }
    });
  });
}
