import { describe, expect, it } from 'vitest';
import { percentileSorted, sliceStats, summarize, timeSeries } from '../../src/loadtest/stats.js';
import { mergeRecordings } from '../../src/loadtest/recording.js';
import { recordingOf } from './recording-helpers.js';

describe('exact nearest-rank percentiles', () => {
  const oneTo100 = Array.from({ length: 100 }, (_, i) => i + 1);

  it('1..100: pN is N, max 100, min 1, mean 50.5', () => {
    const s = summarize(oneTo100.slice().reverse());
    expect(s).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 });
  });

  it('small samples pick an observed value, never an interpolation', () => {
    // n=10: rank(p50)=5, rank(p95)=ceil(9.5)=10, rank(p99)=10.
    const s = summarize([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]);
    expect([s.p50, s.p90, s.p95, s.p99, s.max]).toEqual([50, 90, 1000, 1000, 1000]);
    // n=4: p50 = 2nd value, p75 boundary = 3rd.
    expect(percentileSorted([1, 2, 3, 4], 50)).toBe(2);
    expect(percentileSorted([1, 2, 3, 4], 75)).toBe(3);
    expect(percentileSorted([1, 2, 3, 4], 75.1)).toBe(4);
    expect(percentileSorted([7], 99)).toBe(7);
  });

  it('a single slow outlier in 1000 shows at p99.9 but not p99', () => {
    const v = Array.from({ length: 1000 }, () => 5);
    v[500] = 900;
    expect(percentileSorted(Float64Array.from(v).sort(), 99)).toBe(5);
    expect(percentileSorted(Float64Array.from(v).sort(), 99.95)).toBe(900);
  });

  it('sorts numerically, not as strings', () => {
    expect(summarize([100, 9, 20]).p50).toBe(20);
  });

  it('empty input gives NaN, not 0', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(Number.isNaN(s.p50)).toBe(true);
    expect(Number.isNaN(percentileSorted([], 50))).toBe(true);
  });
});

describe('slice statistics', () => {
  const rec = recordingOf([
    [0, 10],
    [100, 20],
    [200, 30, 'http', 503],
    [300, 40, 'timeout', 0],
    [900, 50],
    [1000, 60], // outside [0, 1000)
    [400, 0, 'not_sent'],
  ]);

  it('selects by start time; latency over successes; errors of every kind in the rate', () => {
    const s = sliceStats(rec, 0, 1000);
    expect(s.requests).toBe(6);
    expect(s.ok).toBe(3);
    expect(s.errors).toBe(3);
    expect(s.errorRatePct).toBe(50);
    expect(s.errorsByKind).toEqual({ http_503: 1, timeout: 1, not_sent: 1 });
    expect([s.latency.p50, s.latency.max]).toEqual([20, 50]);
    expect(s.okRps).toBe(3);
    // not-sent arrivals never reached the server: not in the completed rate.
    expect(s.rps).toBe(5);
    expect(s.tokens).toBe(30);
  });

  it('merging recordings keeps every sample', () => {
    const merged = mergeRecordings([rec, recordingOf([[50, 5]])]);
    expect(merged.count).toBe(rec.count + 1);
    expect(sliceStats(merged, 0, 1000).ok).toBe(4);
  });

  it('time series buckets completions by end time and latency by start time', () => {
    const ts = timeSeries(
      recordingOf([
        [0, 10],
        [500, 600],
        [1200, 10, 'body'],
      ]),
      2000,
      1000,
    );
    expect(ts.t).toEqual([0, 1]);
    expect(ts.okRps).toEqual([1, 1]);
    expect(ts.errRps).toEqual([0, 1]);
    expect(ts.p50[0]).toBe(10);
    expect(ts.p99[0]).toBe(600);
  });

  it('a partial last bucket reports a rate over the time it covers', () => {
    const ts = timeSeries(recordingOf([[1100, 10]]), 1500, 1000);
    expect(ts.okRps).toEqual([0, 2]);
  });
});
