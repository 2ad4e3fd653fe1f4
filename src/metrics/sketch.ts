/**
 * A fixed-bucket log-scale latency histogram ("sketch"): every value lands in a bucket whose upper
 * bound is MIN_MS * GROWTH^i, so a quantile read back is within ±5 % of the true value whatever
 * the distribution, and two sketches merge by adding counts (other windows, other processes).
 */

const MIN_MS = 0.01;
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
/** 0.01 ms … ~20 min. */
export const SKETCH_BUCKETS = 200;

/** Bucket index of a latency in ms. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH);
  return i < SKETCH_BUCKETS ? i : SKETCH_BUCKETS - 1;
}

/** Representative value of a bucket: the geometric middle of its range. */
function valueOf(i: number): number {
  if (i === 0) return MIN_MS;
  return MIN_MS * Math.pow(GROWTH, i - 0.5);
}

export type SketchCounts = Uint32Array;

export function newCounts(): SketchCounts {
  return new Uint32Array(SKETCH_BUCKETS);
}

/**
 * The q-quantile (0..1) of the counts, or null when empty. `maxMs` (the largest value seen)
 * caps the answer so p99 of a handful of samples never exceeds what was observed.
 */
export function quantile(counts: ArrayLike<number>, total: number, q: number, maxMs?: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) {
      const v = valueOf(i);
      return round(maxMs !== undefined && v > maxMs ? maxMs : v);
    }
  }
  return maxMs !== undefined ? round(maxMs) : null;
}

/** Sparse form for publishing: [bucket, count] pairs of the non-empty buckets. */
export function toSparse(counts: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0) out.push([i, c]);
  }
  return out;
}

/** Add sparse pairs into dense counts (ignores out-of-range buckets from a foreign version). */
export function addSparse(into: Float64Array | Uint32Array, pairs: ReadonlyArray<readonly [number, number]>) {
  for (const [i, c] of pairs) {
    if (Number.isInteger(i) && i >= 0 && i < into.length && c > 0) into[i] = (into[i] ?? 0) + c;
  }
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
