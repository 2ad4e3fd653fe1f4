import { afterEach, describe, expect, it } from 'vitest';
import { combineSlo, DEFAULT_SLO, evaluateRecovery, evaluateSlo } from '../../src/loadtest/slo.js';
import { sliceStats } from '../../src/loadtest/stats.js';
import { recordingOf } from './recording-helpers.js';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { QUICK, runCli } from './cli-helpers.js';

/** The seed report's total-latency claims, given as flags would. */
const SEED = { ...DEFAULT_SLO, p50Ms: 200, p95Ms: 350, p99Ms: 500 };

/** 100 successful requests with latencies 1..100 ms plus `errors` failures. */
function statsWith(scale: number, errors: number) {
  const s: [number, number, 'ok' | 'http', number][] = [];
  for (let i = 1; i <= 100; i++) s.push([i, i * scale, 'ok', 200]);
  for (let i = 0; i < errors; i++) s.push([i, 1, 'http', 500]);
  return sliceStats(recordingOf(s), 0, 1000);
}

describe('SLO verdict', () => {
  it('defaults judge errors, streamed first token and recovery, not total latency', () => {
    expect(DEFAULT_SLO).toEqual({ errorRatePct: 1, ttftP95Ms: 1000, recoveryMs: 5000 });
    // 100 requests of 1..100 s each: slow answers, no errors, no streams → the default passes.
    const slow = evaluateSlo(statsWith(1000, 0), DEFAULT_SLO);
    expect(slow.checks.map((c) => c.name)).toEqual(['error_rate_pct']);
    expect(slow.pass).toBe(true);
  });

  it('passes when every figure is strictly below its limit', () => {
    // latencies 3..300 ms: p50 150, p95 285, p99 297
    const r = evaluateSlo(statsWith(3, 0), SEED);
    expect(r.pass).toBe(true);
    expect(r.checks.map((c) => [c.name, c.actual])).toEqual([
      ['p50_ms', 150],
      ['p95_ms', 285],
      ['p99_ms', 297],
      ['error_rate_pct', 0],
    ]);
  });

  it('fails on each threshold, including an exact hit of the limit', () => {
    expect(evaluateSlo(statsWith(4, 0), SEED).checks.find((c) => c.name === 'p50_ms')?.pass).toBe(false); // p50 = 200
    const p99Only = evaluateSlo(statsWith(5.1, 0), { ...SEED, p50Ms: 1e9, p95Ms: 1e9 });
    expect(p99Only.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(['p99_ms']);
    // 1 error in 101 requests = 0.99% passes; 2 in 102 = 1.96% fails
    expect(evaluateSlo(statsWith(1, 1), SEED).pass).toBe(true);
    expect(evaluateSlo(statsWith(1, 2), SEED).pass).toBe(false);
  });

  it('no data fails rather than passing vacuously', () => {
    const empty = sliceStats(recordingOf([]), 0, 1000);
    expect(evaluateSlo(empty, SEED).pass).toBe(false);
    const allFailed = sliceStats(recordingOf([[1, 1, 'timeout', 0]]), 0, 1000);
    expect(evaluateSlo(allFailed, SEED).pass).toBe(false);
  });

  it('recovery: never recovered fails; combined verdict needs every part', () => {
    expect(evaluateRecovery(null, SEED).pass).toBe(false);
    expect(evaluateRecovery(4999, SEED).pass).toBe(true);
    const ok = evaluateSlo(statsWith(1, 0), SEED);
    expect(combineSlo([ok, { pass: false, checks: [] }]).pass).toBe(false);
    expect(combineSlo([ok, ok]).pass).toBe(true);
  });
});

describe('exit code', () => {
  let target: FakeTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it('0 when the SLO holds, 1 when a flag tightens it below what the server does, 0 with --no-slo', async () => {
    target = await startFakeTarget({ latencyMs: () => 3 });
    const base = ['progressive', '--url', target.url, '--stages', '2', '--mix', 'repeat=1', ...QUICK];
    const pass = await runCli(base);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain('SLO PASS');
    const fail = await runCli([...base, '--slo-p50', '1ms']);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/SLO FAIL: 2 users: p50_ms [\d.]+ \(limit < 1/);
    expect((await runCli([...base, '--slo-p50', '1', '--no-slo'])).code).toBe(0);
  });

  it('1 when the target cannot be reached, 2 for bad flags', async () => {
    target = await startFakeTarget();
    const url = target.url;
    await target.close();
    target = undefined;
    const down = await runCli(['progressive', '--url', url, ...QUICK]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
    const bad = await runCli(['progressive', '--url', 'nope', '--stages', '5,x', '--mix', 'cats=1']);
    expect(bad.code).toBe(2);
    // every problem is listed at once
    expect(bad.stderr).toContain('--url');
    expect(bad.stderr).toContain('--stages');
    expect(bad.stderr).toContain('--mix');
  });
});
