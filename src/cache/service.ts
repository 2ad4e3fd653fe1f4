import type { Config } from '../config/config.js';
import type { EmbedOutcome } from '../pipeline/pipeline.js';
import { responseKeyPrefix } from './keys.js';
import { createMemoryStore } from './memory-store.js';
import { createMerger } from './stream-merger.js';
import { createPromiseMerger } from './promise-merger.js';
import { createRedisStore, type RedisStore } from './redis-store.js';
import { createCacheStage, type CacheStage } from './stage.js';
import type { CacheLogger, CacheStore } from './store.js';
import { createTieredCache, type L1Entry } from './tiered.js';

/** The sampled-request policies are optional here (absent: the settings' defaults). */
export type CacheConfig = Partial<
  Pick<Config, 'cacheSampledOpenai' | 'cacheSampledOllama' | 'cacheSampledV1'>
> &
  CacheCoreConfig;

type CacheCoreConfig = Pick<
  Config,
  'cacheMode' | 'cacheTtlS' | 'cacheMaxBytes' | 'cachePrefix' | 'redisTimeoutMs' | 'redisUrl'
> &
  Partial<Pick<Config, 'cachePerKey'>>;

export interface ResponseCacheDeps {
  config: CacheConfig;
  logger: CacheLogger;
}

const L2_MEASURE_REUSE_MS = 5000;
const rate = (hits: number, total: number) =>
  total > 0 ? Math.round((hits / total) * 10_000) / 10_000 : null;

/** GET /api/v1/cache/stats body (snake_case, like the rest of the v1 API). */
export interface CacheStatsReport {
  mode: string;
  ttl_s: number;
  requests: {
    total: number;
    hits: number;
    misses: number;
    merged: number;
    bypass: number;
    hit_rate: number | null;
  };
  l1: {
    enabled: boolean;
    hits: number;
    misses: number;
    hit_rate: number | null;
    entries: number;
    bytes: number;
    max_bytes: number;
    evictions: number;
  };
  l2: {
    enabled: boolean;
    status: 'healthy' | 'degraded' | 'disabled';
    hits: number;
    misses: number;
    hit_rate: number | null;
    /** Keys under this gateway's prefix (SCAN, reused for up to 5 s); null if Redis could not be asked. */
    entries: number | null;
    bytes: number | null;
    /** Keys Redis itself evicted (server-wide `evicted_keys`; Redis evicts by its maxmemory policy). */
    evictions: number | null;
    errors: number;
    timeouts: number;
    writes: number;
    compressed_writes: number;
    bytes_before_compression: number;
    bytes_after_compression: number;
    compression_ratio: number | null;
    bytes_saved: number;
  };
  merge: { in_flight: number; upstream_calls: number; merged_requests: number; abandoned: number };
  writes: number;
  incomplete_not_written: number;
}

export interface CacheHealth {
  /** degraded while Redis is configured but not answering (requests continue on L1). */
  status: 'healthy' | 'degraded';
  detail?: string;
  l2: 'healthy' | 'degraded' | 'disabled';
}

export interface ClearResult {
  /** Keys deleted over both tiers (an entry held in both counts twice; see `tiers`). */
  deleted: number;
  tiers: { l1: number; l2: number | null };
}

export interface ResponseCache {
  stage: CacheStage;
  stats(): Promise<CacheStatsReport>;
  /** Delete this gateway's entries whose key contains `pattern` (`*` wildcard); all if omitted. */
  clear(pattern?: string): Promise<ClearResult>;
  health(): CacheHealth;
  /** Resolves when every cache write started so far has settled (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export class CacheClearError extends Error {
  constructor(
    message: string,
    readonly partial: { l1: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CacheClearError';
  }
}

/** The response cache: L1 (in-process, bounded by bytes) + optional L2 (Redis) + merging. */
export function createResponseCache(deps: ResponseCacheDeps): ResponseCache {
  const { config, logger } = deps;
  const ttlMs = config.cacheTtlS * 1000;
  const keyPrefix = responseKeyPrefix(config.cachePrefix);

  const l1: CacheStore<L1Entry> | undefined =
    config.cacheMaxBytes > 0
      ? createMemoryStore<L1Entry>({ maxBytes: config.cacheMaxBytes, sizeOf: (e) => e.bytes })
      : undefined;
  const l2: RedisStore | undefined = config.redisUrl
    ? createRedisStore({ url: config.redisUrl, timeoutMs: config.redisTimeoutMs, logger })
    : undefined;
  const cache = createTieredCache({ ...(l1 ? { l1 } : {}), ...(l2 ? { l2 } : {}), maxTtlMs: ttlMs });
  const merger = createMerger();
  const embedMerger = createPromiseMerger<EmbedOutcome>();
  const stage = createCacheStage({
    cache,
    merger,
    embedMerger,
    mode: config.cacheMode,
    sampled: {
      openai: config.cacheSampledOpenai ?? 'merge',
      ollama: config.cacheSampledOllama ?? 'merge',
      v1: config.cacheSampledV1 ?? 'cache',
      task: config.cacheSampledV1 ?? 'cache',
    },
    ttlMs,
    prefix: config.cachePrefix,
    perKey: config.cachePerKey ?? false,
  });

  // Counting L2 keys is a SCAN: share one in-flight count and reuse it for a few seconds, since
  // metrics poll stats() on a timer.
  type Measured = Awaited<ReturnType<RedisStore['measure']>> | undefined;
  let measured: { at: number; value: Promise<Measured> } | undefined;
  function l2Measure(): Promise<Measured> {
    if (!l2 || l2.connectionStatus() !== 'ready') return Promise.resolve(undefined);
    if (measured && Date.now() - measured.at < L2_MEASURE_REUSE_MS) return measured.value;
    const value = l2.measure(keyPrefix).catch(() => undefined);
    measured = { at: Date.now(), value };
    return value;
  }

  return {
    stage,
    async stats() {
      const s = stage.stats();
      const m = merger.stats();
      const em = embedMerger.stats();
      const a = l1?.stats();
      const b = l2?.stats();
      const measured = await l2Measure();
      const hits = s.hitsL1 + s.hitsL2;
      return {
        mode: config.cacheMode,
        ttl_s: config.cacheTtlS,
        requests: {
          total: s.requests,
          hits,
          misses: s.misses,
          merged: s.merged,
          bypass: s.bypass,
          hit_rate: rate(hits, hits + s.misses + s.merged),
        },
        l1: {
          enabled: l1 !== undefined,
          hits: a?.hits ?? 0,
          misses: a?.misses ?? 0,
          hit_rate: rate(a?.hits ?? 0, (a?.hits ?? 0) + (a?.misses ?? 0)),
          entries: a?.entries ?? 0,
          bytes: a?.bytes ?? 0,
          max_bytes: config.cacheMaxBytes,
          evictions: a?.evictions ?? 0,
        },
        l2: {
          enabled: l2 !== undefined,
          status: l2 ? l2.health().status : 'disabled',
          hits: b?.hits ?? 0,
          misses: b?.misses ?? 0,
          hit_rate: rate(b?.hits ?? 0, (b?.hits ?? 0) + (b?.misses ?? 0)),
          entries: measured?.entries ?? null,
          bytes: measured?.bytes ?? null,
          evictions: measured ? ((await l2?.serverEvictions()) ?? null) : null,
          errors: b?.errors ?? 0,
          timeouts: b?.timeouts ?? 0,
          writes: b?.compression.writes ?? 0,
          compressed_writes: b?.compression.compressedWrites ?? 0,
          bytes_before_compression: b?.compression.bytesBeforeCompression ?? 0,
          bytes_after_compression: b?.compression.bytesAfterCompression ?? 0,
          compression_ratio: b?.compression.ratio ?? null,
          bytes_saved: b?.compression.bytesSaved ?? 0,
        },
        merge: {
          in_flight: m.inFlight + em.inFlight,
          upstream_calls: m.flights + em.flights,
          merged_requests: m.merged + em.merged,
          abandoned: m.abandoned,
        },
        writes: s.writes,
        incomplete_not_written: s.incomplete,
      };
    },
    async clear(pattern) {
      measured = undefined;
      const n1 = l1 ? await l1.deleteByPattern(keyPrefix, pattern) : 0;
      if (!l2) return { deleted: n1, tiers: { l1: n1, l2: null } };
      try {
        const n2 = await l2.deleteByPattern(keyPrefix, pattern);
        return { deleted: n1 + n2, tiers: { l1: n1, l2: n2 } };
      } catch (err) {
        throw new CacheClearError(
          `cache L2 (redis) is unavailable: ${n1} L1 entries cleared, shared entries not cleared`,
          { l1: n1 },
          { cause: err },
        );
      }
    },
    health() {
      if (!l2) return { status: 'healthy', l2: 'disabled' };
      const h = l2.health();
      if (h.status === 'healthy') return { status: 'healthy', l2: 'healthy' };
      return {
        status: 'degraded',
        l2: 'degraded',
        detail: `redis: ${h.error ?? 'unavailable'} (serving from L1)`,
      };
    },
    idle: () => cache.idle(),
    async close() {
      await cache.idle();
      await l2?.close();
      await l1?.close();
    },
  };
}
