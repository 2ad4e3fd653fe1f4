import { OUTCOMES, REQUEST_KINDS, type Outcome, type RequestKind, type RequestResult } from './types.js';

/**
 * Every request of a run, stored column-wise in typed arrays (about 40 bytes per request), so
 * percentiles are exact and a run of a few million requests stays cheap. Times are ms from the
 * run's origin. Plain data: it can be posted between worker threads and merged.
 */
export interface Recording {
  count: number;
  /** Start (open loop: the scheduled start) of each request. */
  start: Float64Array;
  latency: Float64Array;
  kind: Uint8Array;
  outcome: Uint8Array;
  status: Uint16Array;
  tokens: Uint32Array;
  ttft: Float64Array;
  gapCount: number;
  /** Start time of the request each inter-token gap belongs to (for slicing by time). */
  gapStart: Float64Array;
  gap: Float64Array;
  /** First few failure details per outcome, for the report. */
  details: Record<string, string[]>;
}

export interface Recorder {
  add(kind: RequestKind, startMs: number, latencyMs: number, result: RequestResult): void;
  /** An open-loop arrival that was never sent. */
  addNotSent(kind: RequestKind, startMs: number): void;
  readonly count: number;
  /** Latencies of successful requests recorded at index >= from (for the progress line). */
  recentOk(from: number): { latencies: Float64Array; errors: number; total: number };
  finish(): Recording;
}

const MAX_DETAILS = 5;

function grow<T extends Float64Array | Uint8Array | Uint16Array | Uint32Array>(a: T, size: number): T {
  const ctor = a.constructor as new (n: number) => T;
  const b = new ctor(size);
  b.set(a);
  return b;
}

export function outcomeIndex(o: Outcome): number {
  return OUTCOMES.indexOf(o);
}

export function kindIndex(k: RequestKind): number {
  return REQUEST_KINDS.indexOf(k);
}

export function createRecorder(initial = 4096): Recorder {
  let cap = initial;
  let n = 0;
  let start = new Float64Array(cap);
  let latency = new Float64Array(cap);
  let kind = new Uint8Array(cap);
  let outcome = new Uint8Array(cap);
  let status = new Uint16Array(cap);
  let tokens = new Uint32Array(cap);
  let ttft = new Float64Array(cap);
  let gapCap = initial;
  let gapN = 0;
  let gapStart = new Float64Array(gapCap);
  let gap = new Float64Array(gapCap);
  const details: Record<string, string[]> = {};

  function ensure(): void {
    if (n < cap) return;
    cap *= 2;
    start = grow(start, cap);
    latency = grow(latency, cap);
    kind = grow(kind, cap);
    outcome = grow(outcome, cap);
    status = grow(status, cap);
    tokens = grow(tokens, cap);
    ttft = grow(ttft, cap);
  }

  function push(
    k: RequestKind,
    startMs: number,
    latencyMs: number,
    o: Outcome,
    st: number,
    tok: number,
    tt: number,
  ): void {
    ensure();
    start[n] = startMs;
    latency[n] = latencyMs;
    kind[n] = kindIndex(k);
    outcome[n] = outcomeIndex(o);
    status[n] = st;
    tokens[n] = tok;
    ttft[n] = tt;
    n++;
  }

  function keepDetail(o: Outcome, detail: string | undefined): void {
    if (o === 'ok' || detail === undefined) return;
    const list = (details[o] ??= []);
    if (list.length < MAX_DETAILS && !list.includes(detail)) list.push(detail.slice(0, 200));
  }

  return {
    get count() {
      return n;
    },
    add(k, startMs, latencyMs, r) {
      push(k, startMs, latencyMs, r.outcome, r.status, r.tokens, r.ttftMs);
      keepDetail(r.outcome, r.detail);
      if (r.outcome === 'ok' && r.gapsMs !== undefined) {
        for (const g of r.gapsMs) {
          if (gapN >= gapCap) {
            gapCap *= 2;
            gapStart = grow(gapStart, gapCap);
            gap = grow(gap, gapCap);
          }
          gapStart[gapN] = startMs;
          gap[gapN] = g;
          gapN++;
        }
      }
    },
    addNotSent(k, startMs) {
      push(k, startMs, 0, 'not_sent', 0, 0, Number.NaN);
    },
    recentOk(from) {
      const out = new Float64Array(Math.max(0, n - from));
      let m = 0;
      let errors = 0;
      for (let i = from; i < n; i++) {
        if (outcome[i] === 0) out[m++] = latency[i] ?? 0;
        else errors++;
      }
      return { latencies: out.subarray(0, m), errors, total: n - from };
    },
    finish() {
      return {
        count: n,
        start: start.slice(0, n),
        latency: latency.slice(0, n),
        kind: kind.slice(0, n),
        outcome: outcome.slice(0, n),
        status: status.slice(0, n),
        tokens: tokens.slice(0, n),
        ttft: ttft.slice(0, n),
        gapCount: gapN,
        gapStart: gapStart.slice(0, gapN),
        gap: gap.slice(0, gapN),
        details,
      };
    },
  };
}

function concat<T extends Float64Array | Uint8Array | Uint16Array | Uint32Array>(
  parts: T[],
  total: number,
): T {
  const first = parts[0];
  const ctor = (first?.constructor ?? Float64Array) as new (n: number) => T;
  const out = new ctor(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

type Column = 'start' | 'latency' | 'kind' | 'outcome' | 'status' | 'tokens' | 'ttft' | 'gapStart' | 'gap';

/** Merge recordings that share one clock origin (e.g. from worker threads). */
export function mergeRecordings(recs: Recording[]): Recording {
  const count = recs.reduce((s, r) => s + r.count, 0);
  const gapCount = recs.reduce((s, r) => s + r.gapCount, 0);
  const details: Record<string, string[]> = {};
  for (const r of recs) {
    for (const [k, list] of Object.entries(r.details)) {
      const into = (details[k] ??= []);
      for (const d of list) if (into.length < MAX_DETAILS && !into.includes(d)) into.push(d);
    }
  }
  const col = <K extends Column>(k: K, total: number): Recording[K] =>
    concat(
      recs.map((r) => r[k]),
      total,
    );
  return {
    count,
    start: col('start', count),
    latency: col('latency', count),
    kind: col('kind', count),
    outcome: col('outcome', count),
    status: col('status', count),
    tokens: col('tokens', count),
    ttft: col('ttft', count),
    gapCount,
    gapStart: col('gapStart', gapCount),
    gap: col('gap', gapCount),
    details,
  };
}
