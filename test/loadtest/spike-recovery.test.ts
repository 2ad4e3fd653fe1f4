import { afterEach, describe, expect, it } from 'vitest';
import { detectRecovery } from '../../src/loadtest/spike.js';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { runCli } from './cli-helpers.js';
import { recordingOf } from './recording-helpers.js';
import type { Outcome } from '../../src/loadtest/types.js';

const OPTS = { windowMs: 500, tolerance: 1.5, slackMs: 5, consecutive: 3, maxErrorPct: 1 };

/** One request every 10 ms from `from` to `to`, latency given by f(startMs). */
function samples(
  from: number,
  to: number,
  f: (t: number) => number,
  outcome: (t: number) => Outcome = () => 'ok',
) {
  const out: [number, number, Outcome][] = [];
  for (let t = from; t < to; t += 10) out.push([t, f(t), outcome(t)]);
  return out;
}

describe('recovery detection (synthetic recordings)', () => {
  it('finds the first of N consecutive windows back under the threshold', () => {
    // Baseline 10 ms; spike ends at 2000; slow (100 ms) until 3000, then 10 ms again.
    const rec = recordingOf(samples(0, 6000, (t) => (t >= 1000 && t < 3000 ? 100 : 10)));
    const r = detectRecovery(rec, 10, 2000, 6000, OPTS);
    expect(r.thresholdMs).toBe(15);
    expect(r.recovered).toBe(true);
    expect(r.recoveryMs).toBe(1000);
    expect(r.windows.slice(0, 3).map((w) => w.good)).toEqual([false, false, true]);
  });

  it('one good window between bad ones is not recovery', () => {
    const rec = recordingOf(samples(2000, 6000, (t) => ((t >= 2500 && t < 3000) || t >= 4500 ? 10 : 100)));
    expect(detectRecovery(rec, 10, 2000, 6000, OPTS).recoveryMs).toBe(2500);
  });

  it('never back to baseline: not recovered', () => {
    const rec = recordingOf(samples(0, 5000, (t) => (t < 1000 ? 10 : 50)));
    const r = detectRecovery(rec, 10, 2000, 5000, OPTS);
    expect(r.recovered).toBe(false);
    expect(r.recoveryMs).toBeNull();
  });

  it('fast errors do not count as recovery, nor do empty windows', () => {
    const failing = recordingOf(
      samples(
        2000,
        5000,
        () => 1,
        () => 'http',
      ),
    );
    expect(detectRecovery(failing, 10, 2000, 5000, OPTS).recovered).toBe(false);
    const silent = recordingOf([[0, 10, 'ok']]);
    expect(detectRecovery(silent, 10, 2000, 5000, OPTS).recovered).toBe(false);
  });
});

describe('spike scenario against a server whose latency is controlled', () => {
  let target: FakeTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  /** 2 ms normally; 80 ms while more than 10 requests are in flight and for `holdMs` after. */
  function overloadable(holdMs: number) {
    let lastOverload = Number.NEGATIVE_INFINITY;
    return ({ inflight, nowMs }: { inflight: number; nowMs: number }) => {
      if (inflight > 10) lastOverload = nowMs;
      return nowMs - lastOverload < holdMs ? 80 : 2;
    };
  }

  const spikeArgs = (url: string) => [
    'spike',
    '--url',
    url,
    '--mix',
    'repeat=1',
    '--think',
    '0',
    '--warmup',
    '0s',
    '--no-server-metrics',
    '--spike-baseline',
    '2',
    '--spike-peak',
    '40',
    '--spike-baseline-duration',
    '600ms',
    '--spike-duration',
    '600ms',
    '--spike-after-duration',
    '2s',
    '--recovery-window',
    '250ms',
    '--recovery-windows',
    '2',
    '--recovery-slack',
    '20ms',
    '--slo-p50',
    '1000',
    '--slo-p95',
    '1000',
    '--slo-p99',
    '1000',
    '--slo-recovery',
    '1900ms',
  ];

  it('detects the slow tail after the spike and passes once latency is back', async () => {
    target = await startFakeTarget({ latencyMs: overloadable(600) });
    const run = await runCli(spikeArgs(target.url));
    const spike = run.report?.spike;
    expect(spike?.recovered).toBe(true);
    // The server stays slow for 600 ms after the last overloaded moment (at or just before the
    // drop), so recovery cannot be reported earlier than a window before that.
    expect(spike?.recoveryMs).toBeGreaterThanOrEqual(250);
    expect(run.report?.stages.map((s) => s.name)).toEqual(['baseline', 'spike', 'after']);
    expect(run.code).toBe(0);
  });

  it('a server that stays slow after the spike fails with exit code 1', async () => {
    target = await startFakeTarget({ latencyMs: overloadable(60_000) });
    const run = await runCli(spikeArgs(target.url));
    expect(run.report?.spike?.recovered).toBe(false);
    expect(run.report?.slo.checks.find((c) => c.name === 'recovery_ms')?.pass).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT recovered');
  });
});
