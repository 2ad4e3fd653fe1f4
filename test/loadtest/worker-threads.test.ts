import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { runCli } from './cli-helpers.js';

let target: FakeTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

describe('--workers', () => {
  it('spreads load over worker threads and merges every sample', async () => {
    target = await startFakeTarget({ latencyMs: () => 1 });
    const common = [
      'progressive',
      '--url',
      target.url,
      '--mix',
      'fresh=1',
      '--warmup',
      '0s',
      '--no-server-metrics',
      '--no-slo',
    ];
    const open = await runCli([
      ...common,
      '--loop',
      'open',
      '--stages',
      '150',
      '--stage-duration',
      '1s',
      '--connections',
      '8',
      '--workers',
      '2',
    ]);
    expect(open.code).toBe(0);
    expect(open.report?.stages[0]?.stats.requests).toBe(150);
    expect(open.report?.stages[0]?.generator?.workers).toBe(2);
    expect(open.report?.stages[0]?.connect?.opened).toBe(8);
    expect(target.counts['POST /api/v1/chat']).toBe(150);
  });
});
