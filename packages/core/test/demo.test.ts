import { describe, expect, it } from 'vitest';

import { runDemo } from '../src/demo/run-demo.js';

describe('rxipc demo', () => {
  it('slows the producer to the sink rate with every process bounded in memory', async () => {
    const lines: string[] = [];
    const result = await runDemo({ seconds: 3, write: (line) => lines.push(line) });
    const { producer, sink } = result.final;
    expect(sink.count).toBeGreaterThan(100);
    // Without backpressure the producer would be millions ahead; with it, the gap is what
    // the two pipes and the two bounded queues hold.
    expect(producer.count - sink.count).toBeLessThan(20_000);
    expect(result.maxPending.producer).toBeLessThanOrEqual(1024);
    expect(result.maxPending.stage).toBeLessThanOrEqual(256);
    for (const rss of Object.values(result.maxRss)) expect(rss).toBeLessThan(300 * 1024 * 1024);
    expect(lines.join('\n')).toMatch(/in flight/);
  }, 30_000);
});
