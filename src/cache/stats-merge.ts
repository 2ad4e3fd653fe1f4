import type { CacheStatsReport } from './service.js';

const rate = (hits: number, total: number) => (total > 0 ? Math.round((hits / total) * 10000) / 10000 : null);
const sum = (xs: readonly CacheStatsReport[], f: (r: CacheStatsReport) => number) =>
  xs.reduce((a, r) => a + f(r), 0);
const worst = (xs: ReadonlyArray<'healthy' | 'degraded' | 'disabled'>) =>
  xs.includes('degraded') ? 'degraded' : xs.includes('healthy') ? 'healthy' : 'disabled';

/**
 * The cache stats of every worker process of one server (`serve --processes N`), this one first:
 * counters and L1 sizes (one L1 per process) are summed; what Redis reports about itself (L2
 * keys, bytes, evictions: one shared store) is taken once.
 */
export function mergeCacheStats(
  reports: readonly [CacheStatsReport, ...CacheStatsReport[]],
): CacheStatsReport & { processes: number } {
  const [first] = reports;
  const hits = sum(reports, (r) => r.requests.hits);
  const misses = sum(reports, (r) => r.requests.misses);
  const merged = sum(reports, (r) => r.requests.merged);
  const l1Hits = sum(reports, (r) => r.l1.hits);
  const l1Misses = sum(reports, (r) => r.l1.misses);
  const l2Hits = sum(reports, (r) => r.l2.hits);
  const l2Misses = sum(reports, (r) => r.l2.misses);
  const before = sum(reports, (r) => r.l2.bytes_before_compression);
  const after = sum(reports, (r) => r.l2.bytes_after_compression);
  return {
    ...first,
    processes: reports.length,
    requests: {
      total: sum(reports, (r) => r.requests.total),
      hits,
      misses,
      merged,
      bypass: sum(reports, (r) => r.requests.bypass),
      hit_rate: rate(hits, hits + misses + merged),
    },
    l1: {
      enabled: first.l1.enabled,
      hits: l1Hits,
      misses: l1Misses,
      hit_rate: rate(l1Hits, l1Hits + l1Misses),
      entries: sum(reports, (r) => r.l1.entries),
      bytes: sum(reports, (r) => r.l1.bytes),
      max_bytes: sum(reports, (r) => r.l1.max_bytes),
      evictions: sum(reports, (r) => r.l1.evictions),
    },
    l2: {
      ...first.l2,
      status: worst(reports.map((r) => r.l2.status)),
      hits: l2Hits,
      misses: l2Misses,
      hit_rate: rate(l2Hits, l2Hits + l2Misses),
      errors: sum(reports, (r) => r.l2.errors),
      timeouts: sum(reports, (r) => r.l2.timeouts),
      writes: sum(reports, (r) => r.l2.writes),
      compressed_writes: sum(reports, (r) => r.l2.compressed_writes),
      bytes_before_compression: before,
      bytes_after_compression: after,
      compression_ratio: after > 0 ? Math.round((before / after) * 100) / 100 : null,
      bytes_saved: sum(reports, (r) => r.l2.bytes_saved),
    },
    merge: {
      in_flight: sum(reports, (r) => r.merge.in_flight),
      upstream_calls: sum(reports, (r) => r.merge.upstream_calls),
      merged_requests: sum(reports, (r) => r.merge.merged_requests),
      abandoned: sum(reports, (r) => r.merge.abandoned),
    },
    writes: sum(reports, (r) => r.writes),
    incomplete_not_written: sum(reports, (r) => r.incomplete_not_written),
  };
}
