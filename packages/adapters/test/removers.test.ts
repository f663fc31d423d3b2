import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { native } from '@rxipc/native';
import { afterAll, describe, expect, it } from 'vitest';

import { removerFor } from '../src/registry/removers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-removers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('removers of named objects', () => {
  it('removes a FIFO by path, then reports it missing', () => {
    const fifo = path.join(dir, 'a.fifo');
    native.mkfifo(fifo, 0o600);
    const remover = removerFor('fifo')!;
    expect(remover.exists?.(fifo)).toBe(true);
    expect(remover.remove(fifo)).toBe('removed');
    expect(existsSync(fifo)).toBe(false);
    expect(remover.exists?.(fifo)).toBe(false);
    expect(remover.remove(fifo)).toBe('missing');
  });

  it('leaves a file that took the name of a FIFO in place', () => {
    const file = path.join(dir, 'b.fifo');
    writeFileSync(file, 'not a fifo');
    expect(() => removerFor('fifo')!.remove(file)).toThrow(
      expect.objectContaining({ code: 'ERR_RXIPC_NOT_OURS' }),
    );
    expect(existsSync(file)).toBe(true);
  });

  it('removes a System V message queue by id', () => {
    const queue = native.msgget(0, { create: true, mode: 0o600 });
    const name = `id:${native.msgId(queue)}`;
    try {
      const remover = removerFor('sysv-mq')!;
      expect(remover.exists?.(name)).toBe(true);
      expect(remover.remove(name)).toBe('removed');
      expect(remover.exists?.(name)).toBe(false);
      expect(remover.remove(name)).toBe('missing');
    } finally {
      try {
        native.msgRmid(queue);
      } catch {
        // removed by the test, as expected
      }
      native.msgClose(queue);
    }
  });

  it('removes a POSIX message queue by name', () => {
    const name = `/rxipc-removers-${process.pid}`;
    native.fdClose(native.mqOpen(name, { read: true, create: true }));
    try {
      const remover = removerFor('posix-mq')!;
      expect(remover.exists?.(name)).toBe(true);
      expect(remover.remove(name)).toBe('removed');
      expect(remover.exists?.(name)).toBe(false);
    } finally {
      try {
        native.mqUnlink(name);
      } catch {
        // removed by the test, as expected
      }
    }
  });
});

describe('cleanup on signals', () => {
  const registry = path.join(dir, 'registry');
  const script = (fifo: string, ownHandler: boolean) => `
    const { registerNamedObject } = await import(${JSON.stringify(new URL('../src/registry/named-objects.ts', import.meta.url).pathname)});
    const fs = await import('node:fs');
    ${ownHandler ? `process.on('SIGTERM', () => { console.log('own handler'); setTimeout(() => process.exit(0), 50); });` : ''}
    (await import('node:child_process')).execFileSync('mkfifo', [${JSON.stringify(fifo)}]);
    registerNamedObject({ kind: 'fifo', name: ${JSON.stringify(fifo)} }, () => fs.rmSync(${JSON.stringify(fifo)}));
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => console.log('survived'), 1000);
  `;
  const run = (fifo: string, ownHandler: boolean) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script(fifo, ownHandler)],
      { env: { ...process.env, RXIPC_REGISTRY_DIR: registry }, encoding: 'utf8', timeout: 20_000 },
    );

  it('removes the objects on SIGTERM, then ends by that signal', () => {
    const fifo = path.join(dir, 'term.fifo');
    const result = run(fifo, false);
    expect(result.signal).toBe('SIGTERM');
    expect(result.stdout).not.toContain('survived');
    expect(existsSync(fifo)).toBe(false);
    expect(readdirSync(registry)).toEqual([]);
  });

  it("leaves a program's own SIGTERM handler in charge, and cleans up when it exits", () => {
    const fifo = path.join(dir, 'own.fifo');
    const result = run(fifo, true);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('own handler\n');
    expect(existsSync(fifo)).toBe(false);
  });
});
