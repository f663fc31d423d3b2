import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { type BenchReport, renderBenchChart } from '../src/bench/index.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function rxipc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@rxipc/source', CLI, ...args],
      { timeout: 100_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

const measurement = (messagesPerSecond: number, size: number) => ({
  messagesPerSecond,
  bytesPerSecond: messagesPerSecond * size,
  runs: [],
});

/** A small report: pipe at two sizes in one placement, queues only at the small size. */
function sampleReport(): BenchReport {
  const row = (mechanism: string, size: number, rx: number, c: number) => ({
    mechanism,
    size,
    placement: 'same' as const,
    rxipc: measurement(rx, size),
    c: measurement(c, size),
    ratios: { c: rx / c, net: 1, processSend: 1 },
  });
  return {
    version: 1,
    runId: 'test',
    startedAt: '2026-01-01T00:00:00.000Z',
    elapsedSeconds: 1,
    machine: {
      hostname: 'h',
      platform: 'linux',
      arch: 'x64',
      kernel: '6.1',
      kernelVersion: '#1',
      cpus: 2,
      cpuModel: 'Test CPU <2 GHz>',
      allowedCpus: [0, 1],
      totalMemoryBytes: 1,
      node: 'v20.20.2',
      cc: null,
    },
    settings: {
      mechanisms: ['pipe', 'posix-mq'],
      sizes: [64, 65536],
      placements: ['same'],
      cpus: { same: { producer: 0, consumer: 0 } },
      runs: 1,
      targetSeconds: null,
      messages: 1000,
      quick: false,
    },
    rows: [
      row('pipe', 64, 2_500_000, 2_850_000),
      row('pipe', 65536, 20_000, 40_000),
      row('posix-mq', 64, 150_000, 700_000),
    ],
    baselines: [64, 65536].flatMap((size) => [
      {
        name: 'net' as const,
        size,
        placement: 'same' as const,
        measurement: measurement(800_000 / (size / 64), size),
      },
      {
        name: 'process.send' as const,
        size,
        placement: 'same' as const,
        measurement: measurement(280_000 / (size / 64), size),
      },
    ]),
    skipped: [],
    files: [],
  };
}

/** The element names of `svg`, checked to open and close in order (well-formed enough). */
function checkTags(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    names.push(name!);
    if (selfClosing === '/') continue;
    if (closing === '/') expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  return names;
}

describe('the bench chart', () => {
  it('draws one bar per measurement, rxipc next to C and the Node baselines, per size', () => {
    const svg = renderBenchChart(sampleReport());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    checkTags(svg);
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual([
      'rxipc pipe, 64 B: 2.50M msgs/s, 160 MB/s',
      'C pipe, 64 B: 2.85M msgs/s, 182 MB/s',
      'rxipc posix-mq, 64 B: 150k msgs/s, 9.6 MB/s',
      'C posix-mq, 64 B: 700k msgs/s, 44.8 MB/s',
      'net, 64 B: 800k msgs/s, 51.2 MB/s',
      'process.send, 64 B: 280k msgs/s, 17.9 MB/s',
      'rxipc pipe, 64 KiB: 20.0k msgs/s, 1311 MB/s',
      'C pipe, 64 KiB: 40.0k msgs/s, 2621 MB/s',
      'net, 64 KiB: 781 msgs/s, 51.2 MB/s',
      'process.send, 64 KiB: 273 msgs/s, 17.9 MB/s',
    ]);
    expect(svg).toContain('same vCPU (both on cpu 0)');
    expect(svg).not.toContain('cross vCPUs');
    // Text from the report is escaped.
    expect(svg).toContain('Test CPU &lt;2 GHz&gt;');
  });

  it('rxipc bench --from charts a saved report next to it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-chart-test-'));
    try {
      const file = path.join(dir, 'saved.json');
      writeFileSync(file, JSON.stringify(sampleReport()));
      const result = await rxipc(['bench', '--from', file]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^pipe +64 B +same /m);
      expect(result.stdout).toContain(`wrote ${path.join(dir, 'saved.svg')}`);
      expect(readFileSync(path.join(dir, 'saved.svg'), 'utf8')).toBe(
        renderBenchChart(sampleReport()),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rxipc bench writes its chart beside the JSON report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxipc-chart-test-'));
    try {
      const result = await rxipc([
        'bench',
        '--quick',
        '--mechanism',
        'pipe',
        '--size',
        '64',
        '--placement',
        'same',
        '--out',
        dir,
      ]);
      expect(result.stderr).toMatch(/bench \d+\/\d+: rxipc pipe 64 B same/);
      expect(result.code).toBe(0);
      for (const name of ['latest.json', 'latest.svg']) {
        expect(existsSync(path.join(dir, name))).toBe(true);
      }
      const svg = readFileSync(path.join(dir, 'latest.svg'), 'utf8');
      expect(checkTags(svg).filter((name) => name === 'rect').length).toBeGreaterThanOrEqual(4);
      expect(svg).toContain('rxipc pipe, 64 B:');
      expect(result.stdout).toContain(`wrote ${path.join(dir, 'latest.svg')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
