import type { Recording } from './recording.js';
import { OUTCOMES, REQUEST_KINDS, type LatencySummary, type SliceStats } from './types.js';

/**
 * Percentiles are exact: every sample is kept and sorted, and the p-th percentile is the
 * nearest-rank value — the smallest sample such that at least p% of samples are <= it, i.e.
 * sorted[ceil(p/100 * n) - 1]. No interpolation, so every reported value was actually observed.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (p <= 0) return sorted[0] ?? Number.NaN;
  if (p >= 100) return sorted[n - 1] ?? Number.NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export const EMPTY_SUMMARY: LatencySummary = Object.freeze({
  count: 0,
  min: Number.NaN,
  mean: Number.NaN,
  p50: Number.NaN,
  p90: Number.NaN,
  p95: Number.NaN,
  p99: Number.NaN,
  max: Number.NaN,
});

/** Summarise samples (ms). Sorts a copy; the input is left untouched. */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const n = values.length;
  if (n === 0) return { ...EMPTY_SUMMARY };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: sorted[0] ?? Number.NaN,
    mean: sum / n,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    max: sorted[n - 1] ?? Number.NaN,
  };
}

/** Label of a failure for the errors-by-kind table: `http_503`, `timeout`, `body`, ... */
export function errorLabel(outcomeIdx: number, status: number): string {
  const o = OUTCOMES[outcomeIdx] ?? 'other';
  return o === 'http' ? `http_${status}` : o;
}

const NOT_SENT = OUTCOMES.indexOf('not_sent');

/**
 * Statistics over requests that started in [fromMs, toMs). Rates divide by the slice length, so
 * a slice should cover time in which load was actually offered.
 */
export function sliceStats(rec: Recording, fromMs: number, toMs: number): SliceStats {
  const ok: number[] = [];
  const ttft: number[] = [];
  const errorsByKind: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let notSent = 0;
  let tokens = 0;
  for (let i = 0; i < rec.count; i++) {
    const s = rec.start[i] ?? 0;
    if (s < fromMs || s >= toMs) continue;
    requests++;
    const kindName = REQUEST_KINDS[rec.kind[i] ?? 0] ?? 'repeat';
    byKind[kindName] = (byKind[kindName] ?? 0) + 1;
    const o = rec.outcome[i] ?? 0;
    if (o === 0) {
      ok.push(rec.latency[i] ?? 0);
      tokens += rec.tokens[i] ?? 0;
      const t = rec.ttft[i] ?? Number.NaN;
      if (!Number.isNaN(t)) ttft.push(t);
    } else {
      errors++;
      if (o === NOT_SENT) notSent++;
      const label = errorLabel(o, rec.status[i] ?? 0);
      errorsByKind[label] = (errorsByKind[label] ?? 0) + 1;
    }
  }
  const gaps: number[] = [];
  for (let i = 0; i < rec.gapCount; i++) {
    const s = rec.gapStart[i] ?? 0;
    if (s >= fromMs && s < toMs) gaps.push(rec.gap[i] ?? 0);
  }
  const secs = Math.max(1e-9, (toMs - fromMs) / 1000);
  return {
    requests,
    ok: ok.length,
    errors,
    errorRatePct: requests === 0 ? 0 : (errors / requests) * 100,
    errorsByKind,
    latency: summarize(ok),
    okRps: ok.length / secs,
    rps: (requests - notSent) / secs,
    tokens,
    tokensPerSec: tokens / secs,
    ttft: summarize(ttft),
    interToken: summarize(gaps),
    byKind,
  };
}

/** Per-bucket series for charts: completions and errors by completion time, latency by start time. */
export interface TimeSeries {
  bucketMs: number;
  /** Bucket start, seconds from the run origin. */
  t: number[];
  okRps: number[];
  errRps: number[];
  p50: number[];
  p99: number[];
}

export function timeSeries(rec: Recording, durationMs: number, bucketMs: number): TimeSeries {
  const buckets = Math.max(1, Math.ceil(durationMs / bucketMs));
  const okCount = new Array<number>(buckets).fill(0);
  const errCount = new Array<number>(buckets).fill(0);
  const lat: number[][] = Array.from({ length: buckets }, () => []);
  for (let i = 0; i < rec.count; i++) {
    const s = rec.start[i] ?? 0;
    const l = rec.latency[i] ?? 0;
    const o = rec.outcome[i] ?? 0;
    const done = Math.floor((s + l) / bucketMs);
    const started = Math.floor(s / bucketMs);
    if (done >= 0 && done < buckets) {
      if (o === 0) okCount[done] = (okCount[done] ?? 0) + 1;
      else errCount[done] = (errCount[done] ?? 0) + 1;
    }
    if (o === 0 && started >= 0 && started < buckets) lat[started]?.push(l);
  }
  // The last bucket may be partial: rates divide by the time it really covers.
  const perSec = (b: number): number => 1000 / Math.max(1, Math.min(bucketMs, durationMs - b * bucketMs));
  const t: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  for (let b = 0; b < buckets; b++) {
    t.push((b * bucketMs) / 1000);
    const sorted = Float64Array.from(lat[b] ?? []).sort();
    p50.push(percentileSorted(sorted, 50));
    p99.push(percentileSorted(sorted, 99));
  }
  return {
    bucketMs,
    t,
    okRps: okCount.map((c, b) => c * perSec(b)),
    errRps: errCount.map((c, b) => c * perSec(b)),
    p50,
    p99,
  };
}
