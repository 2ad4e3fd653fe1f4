import type { SliceStats, SloCheck, SloResult, SloThresholds } from './types.js';

/**
 * What holds for any model: errors < 1%, streamed first token p95 < 1 s, spike recovery < 5 s.
 * Total latency is not judged by default: a 24-token answer at 40 tokens/s takes 600 ms however
 * good the gateway is. For a real model set --slo-p95 etc. from its own speed (README, "SLOs").
 */
export const DEFAULT_SLO: Readonly<SloThresholds> = Object.freeze({
  errorRatePct: 1,
  ttftP95Ms: 1000,
  recoveryMs: 5000,
});

/** A check passes only when the actual value is strictly below its limit; no data (NaN) fails. */
function check(name: string, limit: number, actual: number): SloCheck {
  return { name, limit, actual, pass: Number.isFinite(actual) && actual < limit };
}

/**
 * Latency thresholds apply to successful requests; errors of every kind (including timeouts and
 * open-loop arrivals that could not be sent) count against the error rate. A slice with no
 * successful request fails its latency checks.
 */
export function evaluateSlo(stats: SliceStats, slo: SloThresholds): SloResult {
  const checks: SloCheck[] = [];
  if (slo.p50Ms !== undefined) checks.push(check('p50_ms', slo.p50Ms, stats.latency.p50));
  if (slo.p95Ms !== undefined) checks.push(check('p95_ms', slo.p95Ms, stats.latency.p95));
  if (slo.p99Ms !== undefined) checks.push(check('p99_ms', slo.p99Ms, stats.latency.p99));
  if (slo.ttftP95Ms !== undefined && stats.ttft.count > 0)
    checks.push(check('ttft_p95_ms', slo.ttftP95Ms, stats.ttft.p95));
  checks.push(
    check('error_rate_pct', slo.errorRatePct, stats.requests === 0 ? Number.NaN : stats.errorRatePct),
  );
  return { pass: checks.every((c) => c.pass), checks };
}

/** Spike recovery: pass when latency returned to baseline within the limit; never recovered fails. */
export function evaluateRecovery(recoveryMs: number | null, slo: SloThresholds): SloCheck {
  return check('recovery_ms', slo.recoveryMs, recoveryMs ?? Number.NaN);
}

export function combineSlo(results: SloResult[]): SloResult {
  const checks = results.flatMap((r) => r.checks);
  return { pass: results.every((r) => r.pass), checks };
}

/** Prefix check names with where they were measured, e.g. "100 users: p99_ms". */
export function labelSlo(label: string, r: SloResult): SloResult {
  return { pass: r.pass, checks: r.checks.map((c) => ({ ...c, name: `${label}: ${c.name}` })) };
}
