import { describe, expect, it } from 'vitest';
import { bucketOf, newCounts, quantile } from '../../src/metrics/sketch.js';
import { trafficFigures } from '../../src/metrics/view.js';
import { createTrafficWindows, mergeSummary } from '../../src/metrics/windows.js';

describe('latency sketch', () => {
  it('reads quantiles back within 5% of the exact value', () => {
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      values.push(0.05 + (x / 2 ** 31) ** 3 * 4000); // skewed, 0.05 ms .. 4 s
    }
    const counts = newCounts();
    for (const v of values) counts[bucketOf(v)] = (counts[bucketOf(v)] ?? 0) + 1;
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
      const got = quantile(counts, values.length, q) ?? 0;
      expect(Math.abs(got - exact) / exact, `q=${q}`).toBeLessThan(0.05);
    }
  });

  it('never reports more than the largest value seen, and null when empty', () => {
    const counts = newCounts();
    counts[bucketOf(10)] = 1;
    expect(quantile(counts, 1, 0.99, 10)).toBe(10);
    expect(quantile(newCounts(), 0, 0.5)).toBeNull();
  });
});

describe('traffic windows', () => {
  it('slides: requests leave each window as their second falls out of it', () => {
    let now = 1_000_000_000_000;
    const w = createTrafficWindows({ maxWindowS: 900, now: () => now });
    now += 60_000; // up for a minute, so the windows are not shortened by start-up
    w.record(10, 200);
    w.record(20, 503);
    w.recordLlm('hit-l1', 7);
    now += 30_000;
    w.record(30, 404);
    expect(w.summary(60)).toMatchObject({ count: 3, errors: 1, clientErrors: 1, tokens: 7, llm: 1 });
    now += 31_000;
    expect(w.summary(60)).toMatchObject({ count: 1, errors: 0, clientErrors: 1, tokens: 0 });
    expect(w.summary(300)).toMatchObject({ count: 3, errors: 1 });
    now += 900_000;
    expect(w.summary(900).count).toBe(0);
    // The last-N ring is by count, not time.
    expect(w.recent().map((r) => r.ms)).toEqual([10, 20, 30]);
  });

  it('keeps only the last N requests in the recent ring', () => {
    const w = createTrafficWindows({ recentSize: 3 });
    for (const ms of [1, 2, 3, 4, 5]) w.record(ms, 200);
    expect(w.recent().map((r) => r.ms)).toEqual([3, 4, 5]);
  });

  it('computes rps over the time really covered, and merges summaries by adding them', () => {
    let now = 1_000_000_000_000;
    const a = createTrafficWindows({ now: () => now });
    const b = createTrafficWindows({ now: () => now });
    now += 10_000; // 10 s after start: a 60 s window covers 10 s
    for (let i = 0; i < 20; i++) a.record(100, 200);
    for (let i = 0; i < 20; i++) b.record(300, i < 2 ? 500 : 200);
    const f = trafficFigures(mergeSummary(a.summary(60), b.summary(60)));
    expect(f.span_s).toBe(10);
    expect(f.requests).toBe(40);
    expect(f.rps).toBe(4);
    expect(f.error_rate).toBe(0.05);
    expect(f.p50_ms ?? 0).toBeGreaterThan(95);
    expect(f.p50_ms ?? 0).toBeLessThan(105);
    expect(f.p95_ms).toBe(300);
  });
});
