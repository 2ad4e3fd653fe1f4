/**
 * The cache-store contract shared by the in-process (memory) and Redis tiers. Values are opaque to
 * the store; TTLs are milliseconds. Stores never throw on get/set for infrastructure trouble: a
 * store that cannot answer reports a miss and records the problem in its stats/health.
 */

/** A value read back together with how long it still lives (ms). */
export interface StoreHit<V> {
  value: V;
  ttlMs: number;
}

export interface StoreStats {
  hits: number;
  misses: number;
  /** Entries held (L2: counted by SCAN on demand, see `count()`). */
  entries: number;
  bytes: number;
  evictions: number;
}

export type StoreHealthStatus = 'healthy' | 'degraded';

export interface StoreHealth {
  status: StoreHealthStatus;
  /** Last problem seen while degraded. */
  error?: string;
  /** ms since epoch when the store became degraded. */
  since?: number;
}

export interface CacheStore<V> {
  readonly name: string;
  /** The value and its remaining TTL, or undefined if absent, expired or the store is unavailable. */
  get(key: string): Promise<StoreHit<V> | undefined>;
  /** Store with a TTL in ms (> 0). Failures are recorded, not thrown. */
  set(key: string, value: V, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /**
   * Delete keys that start with `prefix` and contain `pattern` (a glob where only `*` is special;
   * undefined = every key under the prefix). Returns how many were deleted. May throw if the
   * backing server is unavailable (an admin operation should say so).
   */
  deleteByPattern(prefix: string, pattern?: string): Promise<number>;
  stats(): StoreStats;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** Escape Redis glob metacharacters so `s` matches literally. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** `pattern` with `*` as the only wildcard, turned into a Redis MATCH glob (other metachars literal). */
export function userPatternToGlob(pattern: string): string {
  return pattern.split('*').map(escapeGlob).join('*');
}

/** The same matching rule as Redis `MATCH <prefix>*<pattern>*`, for in-process filtering. */
export function keyMatcher(prefix: string, pattern?: string): (key: string) => boolean {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = pattern === undefined || pattern === '' ? '' : `.*${pattern.split('*').map(esc).join('.*')}`;
  const re = new RegExp(`^${esc(prefix)}${body}`, 's');
  return (key) => re.test(key);
}

/** The slice of a pino logger the cache uses. */
export interface CacheLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
