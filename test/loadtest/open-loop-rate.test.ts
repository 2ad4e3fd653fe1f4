import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { runCli } from './cli-helpers.js';

let target: FakeTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

const open = (url: string, ...more: string[]) => [
  'progressive',
  '--url',
  url,
  '--loop',
  'open',
  '--mix',
  'fresh=1',
  '--warmup',
  '0s',
  '--no-server-metrics',
  '--no-slo',
  ...more,
];

const chats = (t: FakeTarget) => t.counts['POST /api/v1/chat'] ?? 0;

describe('open loop (fixed arrival rate)', () => {
  it('sends rate x duration requests: counts at the server match the schedule', async () => {
    target = await startFakeTarget({ latencyMs: () => 1 });
    const run = await runCli(
      open(target.url, '--stages', '200,400', '--stage-duration', '1500ms', '--connections', '32'),
    );
    // 200/s x 1.5 s + 400/s x 1.5 s, whatever the timer resolution or event-loop hiccups.
    expect(chats(target)).toBeGreaterThanOrEqual(897);
    expect(chats(target)).toBeLessThanOrEqual(903);
    expect(run.report?.stages.map((s) => s.stats.requests)).toEqual([300, 600]);
    expect(run.report?.stages.map((s) => s.unit)).toEqual(['req/s', 'req/s']);
  });

  it('arrivals over the in-flight cap are counted as not_sent errors, not silently skipped', async () => {
    target = await startFakeTarget({ latencyMs: () => 200 });
    const run = await runCli(
      open(
        target.url,
        '--stages',
        '100',
        '--stage-duration',
        '1s',
        '--max-inflight',
        '5',
        '--connections',
        '8',
      ),
    );
    const st = run.report?.stages[0]?.stats;
    const notSent = st?.errorsByKind.not_sent ?? 0;
    expect(st?.requests).toBe(100);
    expect(notSent).toBeGreaterThan(0);
    expect(chats(target) + notSent).toBe(100);
    expect(run.report?.stages[0]?.generator?.notSent).toBe(notSent);
  });

  it('latency is measured from the scheduled start, so queueing is not hidden', async () => {
    // One connection, 20 ms per request, 100 arrivals/s for 0.5 s: the server can finish one
    // request per >= 20 ms, so the 50th (scheduled at 490 ms) cannot finish before 1000 ms.
    target = await startFakeTarget({ latencyMs: () => 20 });
    const run = await runCli(
      open(target.url, '--stages', '100', '--stage-duration', '500ms', '--connections', '1'),
    );
    const st = run.report?.stages[0]?.stats;
    expect(st?.ok).toBe(50);
    expect(st?.latency.max).toBeGreaterThanOrEqual(500);
    expect(run.report?.stages[0]?.generator?.maxQueued).toBeGreaterThan(0);
  });
});
