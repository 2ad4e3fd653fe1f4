import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/loadtest/config.js';
import { createLocalEngine } from '../../src/loadtest/engine.js';
import { runProgressive, type ScenarioContext } from '../../src/loadtest/scenarios.js';
import { startFakeTarget, type FakeTarget } from './fake-target.js';

let target: FakeTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

describe('stopping early (Ctrl-C)', () => {
  it('stops sending, keeps what was measured, and divides rates by the time really run', async () => {
    target = await startFakeTarget({ latencyMs: () => 2 });
    const cfg = parseConfig([
      'progressive',
      '--url',
      target.url,
      '--stages',
      '2,3',
      '--stage-duration',
      '60s',
      '--think',
      '0',
      '--warmup',
      '0s',
      '--mix',
      'repeat=1',
    ]);
    if (cfg === null) throw new Error('unreachable');
    const t0 = Date.now();
    const ctx: ScenarioContext = {
      cfg,
      makeEngine: (url, target_, max) =>
        createLocalEngine({
          url,
          protocol: { target: target_, taskType: cfg.taskType },
          mix: cfg.mix,
          repeatPool: 2,
          headers: {},
          timeoutMs: 5000,
          thinkMs: 0,
          thinkJitter: 0,
          maxInflight: 100,
          lateMs: 10,
          taskPollMs: 10,
          taskTimeoutMs: 1000,
          seed: 1,
          runId: 'x',
          maxConnections: max,
        }),
      onTick: () => undefined,
      stopped: () => Date.now() - t0 > 600,
      serverSamples: () => [],
    };
    const result = await runProgressive(ctx);
    expect(result.stages).toHaveLength(1);
    const st = result.stages[0]?.stats;
    expect(st?.ok).toBeGreaterThan(0);
    expect(st?.ok).toBe(target.counts['POST /api/v1/chat']);
    // Rates use the measured span (well under the planned 60 s).
    expect((st?.ok ?? 0) / (st?.okRps ?? 1)).toBeLessThan(30);
  });
});
