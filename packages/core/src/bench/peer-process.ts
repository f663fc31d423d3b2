/**
 * Starting the bench's peer processes pinned to a vCPU, reading their protocol lines, and
 * making sure none outlives the runner. Internal to the bench.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { PeerResult } from './peers/protocol.js';

/** A program to start: the command, its arguments, and runner descriptors it inherits as 3, 4, ... */
export interface PeerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly fds?: readonly number[];
}

/** The Node peers in `peers/`. */
export type NodePeer =
  'rx-producer' | 'rx-consumer' | 'net-producer' | 'net-consumer' | 'send-consumer' | 'lock-peer';

/**
 * The command that runs a Node peer: the compiled `dist/bench/peers/<name>.js` when the
 * bench itself runs from `dist`, or the `.ts` source through tsx (with the `@rxipc/source`
 * export condition, so workspace packages resolve to their sources) when it runs from `src`
 * under vitest or tsx.
 */
export function nodePeer(
  name: NodePeer,
  args: readonly string[],
  fds: readonly number[] = [],
): PeerCommand {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(
    new URL(`./peers/${name}${fromSource ? '.ts' : '.js'}`, import.meta.url),
  );
  const nodeArgs = fromSource ? ['--import', tsxLoader(), '--conditions=@rxipc/source'] : [];
  return { command: process.execPath, args: [...nodeArgs, script, ...args], fds };
}

let tsxLoaderUrl: string | undefined;

/** tsx's ESM loader, found from this file upwards (it is a root dev dependency). */
function tsxLoader(): string {
  if (tsxLoaderUrl !== undefined) return tsxLoaderUrl;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'node_modules', 'tsx', 'package.json');
    if (existsSync(manifest)) {
      tsxLoaderUrl = pathToFileURL(createRequire(manifest).resolve('tsx')).href;
      return tsxLoaderUrl;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        'the bench runs from TypeScript sources but tsx is not installed; run it from dist (pnpm build)',
      );
    }
    dir = parent;
  }
}

/** Every peer still running, so that none outlives the runner. */
const live = new Set<ChildProcess>();
let exitHook = false;

/** A started peer process. */
export interface Peer {
  readonly label: string;
  readonly pid: number | undefined;
  /** Resolves at the peer's `{"event":"ready"}`; rejects if it exits first. */
  readonly ready: Promise<void>;
  /**
   * Resolves when the peer has exited with status 0, with its result line if it printed one;
   * rejects (a {@link PeerError} with the end of its stderr) on any other end.
   */
  readonly done: Promise<PeerResult | undefined>;
  /** Sends SIGKILL if the peer is still running. */
  kill(): void;
}

/** A peer that failed: how it ended and what it said on stderr. */
export class PeerError extends Error {
  override readonly name = 'PeerError';
  readonly code = 'ERR_RXIPC_BENCH_PEER';
}

/**
 * Starts `peer` pinned to `cpu` (`taskset -c cpu command ...args`). stdout carries the
 * protocol; stderr is kept (the last 8 KiB) for the error message.
 */
export function startPeer(
  label: string,
  peer: PeerCommand,
  cpu: number,
  taskset: string,
  env: NodeJS.ProcessEnv,
): Peer {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = spawn(taskset, ['-c', String(cpu), peer.command, ...peer.args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(peer.fds ?? [])],
    env,
  });
  live.add(child);

  let stdout = '';
  let stderr = '';
  let result: PeerResult | undefined;
  let markReady: () => void = () => {};
  let readyFailed: (error: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    readyFailed = reject;
  });
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      const event = parseLine(line);
      if (event?.event === 'ready') markReady();
      else if (event?.event === 'result') result = event as unknown as PeerResult;
      else stderr = tail(`${stderr}${line}\n`);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr = tail(stderr + text);
  });

  const done = new Promise<PeerResult | undefined>((resolve, reject) => {
    const failed = (how: string): void => {
      const said = stderr.trim();
      reject(new PeerError(`${label} ${how}${said === '' ? '' : `:\n${indent(said)}`}`));
    };
    child.on('error', (error) => {
      live.delete(child);
      failed(`could not start (${error.message})`);
    });
    // 'close', not 'exit': stdout has been read to the end by then.
    child.on('close', (code, signal) => {
      live.delete(child);
      if (code === 0) resolve(result);
      else
        failed(signal !== null ? `was killed by ${signal}` : `exited with status ${String(code)}`);
    });
  });
  done.then(
    () => readyFailed(new PeerError(`${label} exited before it was ready`)),
    (error: unknown) => readyFailed(error),
  );
  // Whoever awaits `ready` or `done` sees the failure; these keep it from being "unhandled".
  ready.catch(() => {});
  done.catch(() => {});

  return {
    label,
    pid: child.pid,
    ready,
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function parseLine(line: string): { event?: unknown } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as { event?: unknown };
  } catch {
    return undefined;
  }
}

function tail(text: string): string {
  return text.length > 8192 ? text.slice(-8192) : text;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}
