import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

import { describe, expect, it } from 'vitest';

import { native } from '../src/index.js';

const ADDON = createRequire(import.meta.url).resolve('../build/Release/rxipc.node');

/** True while `pid` runs (a zombie counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

describe('the parent-death signal (process.cc)', () => {
  it('arms it, reads it back, returns the parent pid, and clears it with 0', () => {
    const script = `
      const n = require(${JSON.stringify(ADDON)});
      const parent = n.setParentDeathSignal(10);
      const armed = n.getParentDeathSignal();
      n.setParentDeathSignal(0);
      console.log(JSON.stringify({ parent, ppid: process.ppid, armed, cleared: n.getParentDeathSignal() }));
    `;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as Record<string, number>;
    expect(report).toEqual({ parent: report['ppid'], ppid: report['ppid'], armed: 10, cleared: 0 });
  });

  it('refuses a signal that does not exist, before any system call', () => {
    expect(() => native.setParentDeathSignal(-1)).toThrow(RangeError);
    expect(() => native.setParentDeathSignal(65)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => native.setParentDeathSignal('9' as unknown as number)).toThrow(TypeError);
  });

  it('ends a child when its parent is killed with SIGKILL', async () => {
    // parent: starts the child, prints its pid once the child has armed the signal, waits.
    const child = `
      const n = require(${JSON.stringify(ADDON)});
      n.setParentDeathSignal(9);
      console.log('armed');
      setInterval(() => {}, 1000);
    `;
    const parentScript = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: ['ignore', 'pipe', 'inherit'] });
      c.stdout.once('data', () => console.log(c.pid));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let grandchild = 0;
    try {
      grandchild = Number(
        await new Promise<string>((resolve) =>
          createInterface({ input: parent.stdout }).once('line', resolve),
        ),
      );
      expect(running(grandchild)).toBe(true);
      parent.kill('SIGKILL');
      const deadline = Date.now() + 5000;
      while (running(grandchild) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(running(grandchild)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
      if (grandchild > 0 && running(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  });
});
