import { Redis } from 'ioredis';
import { addSparse, toSparse } from './sketch.js';
import { emptySummary, type RecentRequest, type WindowSummary } from './windows.js';

/** One process's figures as published to Redis (compact; version-tagged). */
export interface ProcessReport {
  v: 1;
  id: string;
  pid: number;
  host: string;
  /** Epoch ms of publication. */
  at: number;
  uptime_s: number;
  cpu_percent: number;
  rss_bytes: number;
  event_loop_lag_p99_ms: number;
  /** Keyed by window length in seconds. */
  windows: Record<string, SerializedSummary>;
  /** Last requests: [epoch ms, ms, error 0|1]. */
  recent: Array<[number, number, number]>;
}

interface SerializedSummary {
  w: number;
  span: number;
  n: number;
  e: number;
  ce: number;
  sum: number;
  max: number;
  tok: number;
  llm: number;
  cache: number[];
  hist: Array<[number, number]>;
}

export function serializeSummary(s: WindowSummary): SerializedSummary {
  return {
    w: s.windowS,
    span: s.spanS,
    n: s.count,
    e: s.errors,
    ce: s.clientErrors,
    sum: s.sumMs,
    max: s.maxMs,
    tok: s.tokens,
    llm: s.llm,
    cache: s.cache,
    hist: toSparse(s.hist),
  };
}

export function deserializeSummary(x: SerializedSummary): WindowSummary {
  const s = emptySummary(x.w, x.span);
  s.count = x.n;
  s.errors = x.e;
  s.clientErrors = x.ce;
  s.sumMs = x.sum;
  s.maxMs = x.max;
  s.tokens = x.tok;
  s.llm = x.llm;
  x.cache.forEach((c, i) => {
    if (i < s.cache.length) s.cache[i] = c;
  });
  addSparse(s.hist, x.hist);
  return s;
}

export function recentToWire(r: readonly RecentRequest[]): ProcessReport['recent'] {
  return r.map((x) => [x.at, Math.round(x.ms * 100) / 100, x.error ? 1 : 0]);
}

export function recentFromWire(r: ProcessReport['recent']): RecentRequest[] {
  return r.map(([at, ms, e]) => ({ at, ms, error: e === 1 }));
}

export interface ClusterBusOptions {
  redisUrl: string;
  /** Key namespace, e.g. "sutazai:". */
  prefix: string;
  /** A report older than this is ignored (its process is gone). Default 5000 ms. */
  ttlMs?: number;
  /** Per-command timeout. Default 500 ms. */
  timeoutMs?: number;
}

export interface ClusterBus {
  publish(report: ProcessReport): Promise<void>;
  /** Every live process's latest report (this one included). */
  read(): Promise<ProcessReport[]>;
  /** Remove this process's report (on shutdown), then disconnect. */
  close(retireId?: string): Promise<void>;
}

function isReport(x: unknown): x is ProcessReport {
  return typeof x === 'object' && x !== null && (x as { v?: unknown }).v === 1;
}

/**
 * Each process writes its report under its own key with a TTL and indexes it in a sorted set by
 * time; readers take the live entries and drop stale index members. No key scans.
 */
export function createClusterBus(opts: ClusterBusOptions): ClusterBus {
  const ttlMs = opts.ttlMs ?? 5000;
  const index = `${opts.prefix}metrics:procs`;
  const key = (id: string) => `${opts.prefix}metrics:proc:${id}`;
  const redis = new Redis(opts.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: opts.timeoutMs ?? 500,
    retryStrategy: (n) => Math.min(200 * n, 2000),
  });
  // Failures surface as rejected commands (the API then falls back to this process's figures).
  redis.on('error', () => undefined);

  return {
    async publish(report) {
      await redis
        .multi()
        .set(key(report.id), JSON.stringify(report), 'PX', ttlMs)
        .zadd(index, report.at, report.id)
        .pexpire(index, ttlMs * 10)
        .exec();
    },
    async read() {
      const now = Date.now();
      const ids = await redis.zrangebyscore(index, now - ttlMs, '+inf');
      void redis.zremrangebyscore(index, '-inf', now - ttlMs).catch(() => undefined);
      if (ids.length === 0) return [];
      const raw = await redis.mget(ids.map(key));
      const out: ProcessReport[] = [];
      for (const r of raw) {
        if (r === null) continue;
        try {
          const parsed: unknown = JSON.parse(r);
          if (isReport(parsed)) out.push(parsed);
        } catch {
          // A malformed entry from another version: skip it.
        }
      }
      return out;
    },
    async close(retireId) {
      try {
        if (retireId !== undefined) await redis.multi().del(key(retireId)).zrem(index, retireId).exec();
      } catch {
        // Best effort: the report expires by itself.
      }
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
