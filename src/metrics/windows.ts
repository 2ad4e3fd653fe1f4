import { bucketOf, newCounts, SKETCH_BUCKETS, type SketchCounts } from './sketch.js';

/**
 * Routes that monitoring tools poll. They are counted in Prometheus (label surface="monitoring")
 * but left out of the traffic windows, so a dashboard watching an idle gateway does not see its
 * own polls as traffic (the seed's monitor did).
 */
export const MONITORING_ROUTES: readonly string[] = [
  '/health',
  '/ready',
  '/live',
  '/metrics',
  '/api/v1/metrics',
  '/api/v1/metrics/stream',
  '/api/v1/alerts',
  '/dashboard',
  '/dashboard/*',
];

/** Cache outcomes in the order the windows count them. */
export const CACHE_OUTCOMES = ['hit-l1', 'hit-l2', 'miss', 'merged', 'bypass'] as const;
export type CacheOutcome = (typeof CACHE_OUTCOMES)[number];

interface Slot {
  /** Epoch second this slot holds; -1 = never used. */
  sec: number;
  count: number;
  /** 5xx responses. */
  errors: number;
  /** 4xx responses, including 499 (client went away). */
  clientErrors: number;
  sumMs: number;
  maxMs: number;
  hist: SketchCounts;
  /** Completion tokens of LLM answers that finished in this second. */
  tokens: number;
  llm: number;
  cache: number[];
}

/** Sums over one window; mergeable across processes by adding fields (spanS: max). */
export interface WindowSummary {
  windowS: number;
  /** Seconds the window really covers (shorter right after start-up). */
  spanS: number;
  count: number;
  errors: number;
  clientErrors: number;
  sumMs: number;
  maxMs: number;
  hist: Float64Array;
  tokens: number;
  llm: number;
  /** Counts by CACHE_OUTCOMES index. */
  cache: number[];
}

export interface RecentRequest {
  /** Epoch ms when it finished. */
  at: number;
  ms: number;
  error: boolean;
}

export interface TrafficWindows {
  /** One finished HTTP request counted as traffic. */
  record(ms: number, status: number): void;
  /** One finished LLM generation (any surface, including tasks). */
  recordLlm(cache: CacheOutcome, completionTokens: number): void;
  summary(windowS: number): WindowSummary;
  /** The last `n` requests (n ≤ capacity), oldest first. */
  recent(): RecentRequest[];
}

export interface TrafficWindowOptions {
  /** Longest window that can be asked for, s. Default 900. */
  maxWindowS?: number;
  /** Size of the "last N requests" ring. Default 100. */
  recentSize?: number;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

const emptySlot = (): Slot => ({
  sec: -1,
  count: 0,
  errors: 0,
  clientErrors: 0,
  sumMs: 0,
  maxMs: 0,
  hist: newCounts(),
  tokens: 0,
  llm: 0,
  cache: CACHE_OUTCOMES.map(() => 0),
});

export function emptySummary(windowS: number, spanS = windowS): WindowSummary {
  return {
    windowS,
    spanS,
    count: 0,
    errors: 0,
    clientErrors: 0,
    sumMs: 0,
    maxMs: 0,
    hist: new Float64Array(SKETCH_BUCKETS),
    tokens: 0,
    llm: 0,
    cache: CACHE_OUTCOMES.map(() => 0),
  };
}

/**
 * Per-second slots in a ring covering the longest window: recording touches one slot, a summary
 * adds up the slots inside the window. Slots are reused in place (no allocation per request).
 */
export function createTrafficWindows(opts: TrafficWindowOptions = {}): TrafficWindows {
  const now = opts.now ?? Date.now;
  const size = (opts.maxWindowS ?? 900) + 1;
  const ring: Slot[] = Array.from({ length: size }, emptySlot);
  const recentSize = opts.recentSize ?? 100;
  const recentAt = new Float64Array(recentSize);
  const recentMs = new Float64Array(recentSize);
  const recentErr = new Uint8Array(recentSize);
  let recentNext = 0;
  let recentCount = 0;
  const startedAt = now();

  function slotFor(sec: number): Slot {
    const slot = ring[sec % size] as Slot;
    if (slot.sec !== sec) {
      slot.sec = sec;
      slot.count = 0;
      slot.errors = 0;
      slot.clientErrors = 0;
      slot.sumMs = 0;
      slot.maxMs = 0;
      slot.hist.fill(0);
      slot.tokens = 0;
      slot.llm = 0;
      slot.cache.fill(0);
    }
    return slot;
  }

  return {
    record(ms, status) {
      const t = now();
      const slot = slotFor(Math.floor(t / 1000));
      const error = status >= 500;
      slot.count++;
      if (error) slot.errors++;
      else if (status >= 400) slot.clientErrors++;
      slot.sumMs += ms;
      if (ms > slot.maxMs) slot.maxMs = ms;
      const b = bucketOf(ms);
      slot.hist[b] = (slot.hist[b] ?? 0) + 1;
      recentAt[recentNext] = t;
      recentMs[recentNext] = ms;
      recentErr[recentNext] = error ? 1 : 0;
      recentNext = (recentNext + 1) % recentSize;
      if (recentCount < recentSize) recentCount++;
    },
    recordLlm(cache, completionTokens) {
      const slot = slotFor(Math.floor(now() / 1000));
      slot.llm++;
      slot.tokens += completionTokens;
      const i = CACHE_OUTCOMES.indexOf(cache);
      if (i >= 0) slot.cache[i] = (slot.cache[i] ?? 0) + 1;
    },
    summary(windowS) {
      const w = Math.max(1, Math.min(size - 1, Math.floor(windowS)));
      const t = now();
      const sec = Math.floor(t / 1000);
      // The current second is partial; right after start-up the window is shorter than asked.
      const span = Math.min(w - 1 + (t % 1000) / 1000, (t - startedAt) / 1000);
      const out = emptySummary(w, Math.max(1, span));
      for (const slot of ring) {
        if (slot.sec <= sec - w || slot.sec > sec || slot.count + slot.llm === 0) continue;
        out.count += slot.count;
        out.errors += slot.errors;
        out.clientErrors += slot.clientErrors;
        out.sumMs += slot.sumMs;
        if (slot.maxMs > out.maxMs) out.maxMs = slot.maxMs;
        out.tokens += slot.tokens;
        out.llm += slot.llm;
        for (let i = 0; i < out.cache.length; i++) out.cache[i] = (out.cache[i] ?? 0) + (slot.cache[i] ?? 0);
        if (slot.count > 0)
          for (let i = 0; i < SKETCH_BUCKETS; i++) out.hist[i] = (out.hist[i] ?? 0) + (slot.hist[i] ?? 0);
      }
      return out;
    },
    recent() {
      const out: RecentRequest[] = [];
      const start = recentCount < recentSize ? 0 : recentNext;
      for (let k = 0; k < recentCount; k++) {
        const i = (start + k) % recentSize;
        out.push({ at: recentAt[i] ?? 0, ms: recentMs[i] ?? 0, error: recentErr[i] === 1 });
      }
      return out;
    },
  };
}

/** Add `b` into `a` (for merging processes). */
export function mergeSummary(a: WindowSummary, b: WindowSummary): WindowSummary {
  a.spanS = Math.max(a.spanS, b.spanS);
  a.count += b.count;
  a.errors += b.errors;
  a.clientErrors += b.clientErrors;
  a.sumMs += b.sumMs;
  a.maxMs = Math.max(a.maxMs, b.maxMs);
  a.tokens += b.tokens;
  a.llm += b.llm;
  for (let i = 0; i < a.cache.length; i++) a.cache[i] = (a.cache[i] ?? 0) + (b.cache[i] ?? 0);
  for (let i = 0; i < a.hist.length; i++) a.hist[i] = (a.hist[i] ?? 0) + (b.hist[i] ?? 0);
  return a;
}
