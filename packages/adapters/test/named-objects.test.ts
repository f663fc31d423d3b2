import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  isAlive,
  listNamedObjects,
  registerNamedObject,
  startTimeOf,
} from '../src/registry/named-objects.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-registry-test-'));
beforeAll(() => {
  process.env['RXIPC_REGISTRY_DIR'] = dir;
});
afterAll(() => {
  delete process.env['RXIPC_REGISTRY_DIR'];
  rmSync(dir, { recursive: true, force: true });
});

describe('the registry of named objects', () => {
  it('records an object with its owner and forgets it on release', () => {
    const file = path.join(dir, 'object-a');
    writeFileSync(file, '');
    const release = registerNamedObject({ kind: 'fifo', name: file, mode: 0o600 }, () =>
      rmSync(file),
    );
    const entry = listNamedObjects().find((e) => e.name === file);
    expect(entry).toMatchObject({ kind: 'fifo', pid: process.pid, mode: '0600', ownerAlive: true });
    release(true);
    expect(existsSync(file)).toBe(false);
    expect(listNamedObjects().some((e) => e.name === file)).toBe(false);
  });

  it('tells a dead owner, and a recycled pid, from a live one', () => {
    expect(isAlive(process.pid, startTimeOf(process.pid)!)).toBe(true);
    expect(isAlive(process.pid, startTimeOf(process.pid)! + 1)).toBe(false);
    const child = execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], {
      encoding: 'utf8',
    });
    expect(isAlive(Number(child), 0)).toBe(false);
  });

  it('removes what is still registered when the process exits normally', () => {
    const file = path.join(dir, 'object-b');
    const script = `
      const { registerNamedObject } = await import(${JSON.stringify(new URL('../src/registry/named-objects.ts', import.meta.url).pathname)});
      const fs = await import('node:fs');
      fs.writeFileSync(${JSON.stringify(file)}, '');
      registerNamedObject({ kind: 'fifo', name: ${JSON.stringify(file)} }, () => fs.rmSync(${JSON.stringify(file)}));
    `;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, RXIPC_REGISTRY_DIR: dir },
    });
    expect(existsSync(file)).toBe(false);
    expect(listNamedObjects().some((e) => e.name === file)).toBe(false);
  });
});
