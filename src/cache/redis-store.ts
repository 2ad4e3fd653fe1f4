import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Redis } from 'ioredis';
import {
  userPatternToGlob,
  escapeGlob,
  type CacheLogger,
  type CacheStore,
  type StoreHealth,
  type StoreHit,
  type StoreStats,
} from './store.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Values larger than this many bytes are gzip-compressed in Redis. */
export const COMPRESS_THRESHOLD_BYTES = 1024;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const SCAN_BATCH = 500;
/** GET and PTTL in one atomic round trip: `{value, pttl}` or nil. */
const GET_WITH_PTTL = `local v = redis.call('GET', KEYS[1])
if not v then return nil end
return {v, redis.call('PTTL', KEYS[1])}`;

type ScriptedRedis = Redis & {
  sutazaiGetWithPttlBuffer(key: string): Promise<[Buffer, number] | null>;
};

export interface RedisStoreOptions {
  /** redis:// URL; the store opens its own connection. */
  url: string;
  /** Per-operation timeout, ms: a slower answer counts as a miss and marks the store degraded. */
  timeoutMs: number;
  logger: CacheLogger;
}

export interface CompressionStats {
  writes: number;
  compressedWrites: number;
  /** Bytes of the values that were compressed, before and after gzip. */
  bytesBeforeCompression: number;
  bytesAfterCompression: number;
  /** bytesAfter / bytesBefore over compressed writes (1 = nothing gained); null before any. */
  ratio: number | null;
  bytesSaved: number;
}

export interface RedisStoreStats extends StoreStats {
  errors: number;
  timeouts: number;
  compression: CompressionStats;
}

export interface RedisStore extends CacheStore<string> {
  stats(): RedisStoreStats;
  /** Count keys (and their stored bytes) under `prefix` with SCAN, stopping after `limit` keys. */
  measure(prefix: string, limit?: number): Promise<{ entries: number; bytes: number; complete: boolean }>;
  /** Redis's own server-wide `evicted_keys` (maxmemory policy), or undefined if unavailable. */
  serverEvictions(): Promise<number | undefined>;
  /** The underlying connection state, e.g. "ready", "reconnecting". */
  connectionStatus(): string;
}

class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/**
 * Reject if `p` has not settled `ms` after the call. The timer's verdict is deferred by one
 * setImmediate: timers run before the poll phase, so on a busy event loop an answer already in the
 * socket buffer would otherwise lose to a timer that fell due during the same long tick.
 */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => setImmediate(() => reject(new RedisTimeoutError(ms))), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * L2: Redis, shared by every gateway process. A down or slow Redis is a miss, never an error
 * (offline queue disabled, so commands fail fast while disconnected); ioredis reconnects by
 * itself and the store reports `degraded` until a command succeeds again.
 * Stored values: UTF-8 text, or gzip bytes for values over 1 KB. The gzip magic (1F 8B) is the
 * marker: valid UTF-8 can never start with 0x1F 0x8B, so plain values are unambiguous.
 */
export function createRedisStore(opts: RedisStoreOptions): RedisStore {
  if (!(opts.timeoutMs > 0))
    throw new TypeError(`redis store: timeoutMs must be > 0 (got ${opts.timeoutMs})`);
  const { logger, timeoutMs } = opts;
  const adminTimeoutMs = Math.max(timeoutMs, 5000);
  const redis = new Redis(opts.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // One write per event-loop tick for all commands issued in it (fewer syscalls under load).
    enableAutoPipelining: true,
    connectTimeout: Math.max(1000, timeoutMs * 20),
    connectionName: 'sutazai-cache',
    // Keep trying forever, backing off to 1 s: L2 comes back by itself.
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
  const c = { hits: 0, misses: 0, errors: 0, timeouts: 0, writes: 0, compressed: 0, before: 0, after: 0 };
  let health: StoreHealth = { status: 'degraded', error: 'connecting', since: Date.now() };
  let closing = false;
  let everReady = false;

  function degrade(error: string): void {
    if (health.status === 'healthy') {
      health = { status: 'degraded', error, since: Date.now() };
      if (!closing) logger.warn({ store: 'redis', error }, 'cache L2 (redis) degraded; serving from L1 only');
    } else health = { ...health, error };
  }
  function recover(): void {
    everReady = true;
    if (health.status === 'degraded') {
      const downMs = Date.now() - (health.since ?? Date.now());
      health = { status: 'healthy' };
      logger.info({ store: 'redis', downMs }, 'cache L2 (redis) healthy');
    }
  }
  function failed(err: unknown): void {
    c.errors++;
    if (err instanceof RedisTimeoutError) c.timeouts++;
    degrade(err instanceof Error ? err.message : String(err));
  }

  redis.defineCommand('sutazaiGetWithPttl', { numberOfKeys: 1, lua: GET_WITH_PTTL });
  const scripted = redis as ScriptedRedis;
  redis.on('ready', recover);
  let warnedUnreachable = false;
  redis.on('error', (err: Error) => {
    degrade(err.message);
    // Unreachable from the start: say so once (later outages are logged by degrade()).
    if (!everReady && !warnedUnreachable && !closing) {
      warnedUnreachable = true;
      logger.warn(
        { store: 'redis', error: err.message },
        'cache L2 (redis) unreachable; serving from L1 until it is',
      );
    }
  });
  redis.on('close', () => degrade('connection closed'));

  async function decode(raw: Buffer): Promise<string> {
    if (raw.length >= 2 && raw[0] === GZIP_MAGIC_0 && raw[1] === GZIP_MAGIC_1) {
      return (await gunzipAsync(raw)).toString('utf8');
    }
    return raw.toString('utf8');
  }

  return {
    name: 'redis',
    async get(key): Promise<StoreHit<string> | undefined> {
      if (redis.status !== 'ready') {
        c.misses++;
        return undefined;
      }
      try {
        const res = await withTimeout(scripted.sutazaiGetWithPttlBuffer(key), timeoutMs);
        const raw = res?.[0];
        const pttl = res?.[1];
        if (!Buffer.isBuffer(raw) || typeof pttl !== 'number' || pttl === -2) {
          recover();
          c.misses++;
          return undefined;
        }
        const value = await decode(raw);
        recover();
        c.hits++;
        // -1 = no expiry (not written by us); the caller clamps it to its own TTL.
        return { value, ttlMs: pttl === -1 ? Number.POSITIVE_INFINITY : pttl };
      } catch (err) {
        failed(err);
        c.misses++;
        return undefined;
      }
    },
    async set(key, value, ttlMs) {
      if (!(ttlMs > 0) || redis.status !== 'ready') return;
      try {
        const bytes = Buffer.byteLength(value, 'utf8');
        const compress = bytes > COMPRESS_THRESHOLD_BYTES;
        const payload = compress ? await gzipAsync(Buffer.from(value, 'utf8')) : value;
        await withTimeout(redis.set(key, payload, 'PX', Math.ceil(ttlMs)), timeoutMs);
        c.writes++;
        if (compress) {
          c.compressed++;
          c.before += bytes;
          c.after += payload.length;
        }
        recover();
      } catch (err) {
        failed(err);
      }
    },
    async delete(key) {
      try {
        return (await withTimeout(redis.unlink(key), adminTimeoutMs)) > 0;
      } catch (err) {
        failed(err);
        return false;
      }
    },
    async deleteByPattern(prefix, pattern) {
      const match = `${escapeGlob(prefix)}*${pattern ? `${userPatternToGlob(pattern)}*` : ''}`;
      let deleted = 0;
      let cursor = '0';
      do {
        const [next, keys] = await withTimeout(
          redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_BATCH),
          adminTimeoutMs,
        );
        if (keys.length > 0) deleted += await withTimeout(redis.unlink(...keys), adminTimeoutMs);
        cursor = next;
      } while (cursor !== '0');
      return deleted;
    },
    async measure(prefix, limit = 100_000) {
      let entries = 0;
      let bytes = 0;
      let cursor = '0';
      do {
        const [next, keys] = await withTimeout(
          redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', SCAN_BATCH),
          adminTimeoutMs,
        );
        if (keys.length > 0) {
          const pipe = redis.pipeline();
          for (const k of keys) pipe.strlen(k);
          const lens = (await withTimeout(pipe.exec(), adminTimeoutMs)) ?? [];
          for (const [err, n] of lens) {
            if (err || typeof n !== 'number' || n <= 0) continue;
            entries++;
            bytes += n;
          }
        }
        cursor = next;
      } while (cursor !== '0' && entries < limit);
      return { entries, bytes, complete: cursor === '0' };
    },
    stats(): RedisStoreStats {
      return {
        hits: c.hits,
        misses: c.misses,
        entries: 0,
        bytes: 0,
        evictions: 0,
        errors: c.errors,
        timeouts: c.timeouts,
        compression: {
          writes: c.writes,
          compressedWrites: c.compressed,
          bytesBeforeCompression: c.before,
          bytesAfterCompression: c.after,
          ratio: c.before > 0 ? Math.round((c.after / c.before) * 1000) / 1000 : null,
          bytesSaved: c.before - c.after,
        },
      };
    },
    health: () => ({ ...health }),
    async serverEvictions() {
      try {
        const info = await withTimeout(redis.info('stats'), adminTimeoutMs);
        const m = /^evicted_keys:(\d+)/m.exec(info);
        return m?.[1] === undefined ? undefined : Number(m[1]);
      } catch {
        return undefined;
      }
    },
    connectionStatus: () => redis.status,
    async close() {
      closing = true;
      try {
        await withTimeout(redis.quit(), 1000);
      } catch {
        redis.disconnect();
      }
    },
  };
}
