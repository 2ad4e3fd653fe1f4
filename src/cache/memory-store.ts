import { LRUCache } from 'lru-cache';
import { keyMatcher, type CacheStore, type StoreHealth, type StoreHit, type StoreStats } from './store.js';

export interface MemoryStoreOptions<V extends object> {
  /** Upper bound of the summed `sizeOf` of all entries, bytes (> 0). */
  maxBytes: number;
  /** Approximate size of one entry in bytes (key excluded). */
  sizeOf: (value: V) => number;
  /** Clock in ms (tests). Default: performance.now. */
  now?: () => number;
}

/**
 * L1: an in-process LRU bounded by bytes. Every entry carries its own TTL, checked on read (an
 * expired entry is never returned, and is dropped when seen).
 */
export function createMemoryStore<V extends object>(opts: MemoryStoreOptions<V>): CacheStore<V> {
  if (!Number.isInteger(opts.maxBytes) || opts.maxBytes <= 0) {
    throw new TypeError(`memory store: maxBytes must be a positive integer (got ${opts.maxBytes})`);
  }
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  const lru = new LRUCache<string, V>({
    maxSize: opts.maxBytes,
    sizeCalculation: (value, key) => Math.max(1, opts.sizeOf(value) + key.length),
    // TTL is per entry; an entry past its TTL is treated as absent and deleted on read.
    ttlAutopurge: false,
    allowStale: false,
    updateAgeOnGet: false,
    ...(opts.now ? { perf: { now: opts.now }, ttlResolution: 0 } : {}),
    dispose: (_value, _key, reason) => {
      if (reason === 'evict') evictions++;
    },
  });
  const health: StoreHealth = { status: 'healthy' };

  return {
    name: 'memory',
    async get(key): Promise<StoreHit<V> | undefined> {
      const value = lru.get(key);
      if (value === undefined) {
        misses++;
        return undefined;
      }
      const ttlMs = lru.getRemainingTTL(key);
      if (ttlMs <= 0) {
        misses++;
        lru.delete(key);
        return undefined;
      }
      hits++;
      return { value, ttlMs };
    },
    async set(key, value, ttlMs) {
      if (!(ttlMs > 0)) return;
      lru.set(key, value, { ttl: Math.ceil(ttlMs) });
    },
    async delete(key) {
      return lru.delete(key);
    },
    async deleteByPattern(prefix, pattern) {
      const matches = keyMatcher(prefix, pattern);
      let n = 0;
      for (const key of [...lru.keys()]) {
        if (matches(key) && lru.delete(key)) n++;
      }
      return n;
    },
    stats(): StoreStats {
      lru.purgeStale();
      return { hits, misses, entries: lru.size, bytes: lru.calculatedSize, evictions };
    },
    health: () => health,
    async close() {
      lru.clear();
    },
  };
}
