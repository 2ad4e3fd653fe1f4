import type { FastifyBaseLogger } from 'fastify';
import type { CacheStatsReport } from '../cache/service.js';
import type { TaskStats } from '../queue/service.js';
import type { StorePoolStats } from '../store/types.js';

export interface SourceFns {
  cache?: () => Promise<CacheStatsReport>;
  queue?: () => Promise<TaskStats>;
  store?: () => StorePoolStats;
}

/** Cache stats may scan Redis and queue stats ask Redis: poll them slowly, never per scrape. */
const CACHE_POLL_MS = 5000;
const QUEUE_POLL_MS = 2000;

interface Polled<T> {
  value?: T;
  at?: number;
  error?: string;
}

/**
 * The latest stats of other modules, refreshed on timers so that reading them (Prometheus
 * scrapes, the JSON view, alert evaluation) never waits on the network.
 */
export function createSources(logger: FastifyBaseLogger) {
  const cache: Polled<CacheStatsReport> = {};
  const queue: Polled<TaskStats> = {};
  let storeFn: (() => StorePoolStats) | undefined;
  const timers: NodeJS.Timeout[] = [];

  function poll<T>(slot: Polled<T>, fn: () => Promise<T>, ms: number, what: string) {
    let busy = false;
    const run = () => {
      if (busy) return;
      busy = true;
      fn()
        .then(
          (v) => {
            slot.value = v;
            slot.at = Date.now();
            delete slot.error;
          },
          (err: unknown) => {
            slot.error = (err as Error).message;
            logger.debug({ err }, `metrics: could not read ${what} stats`);
          },
        )
        .finally(() => {
          busy = false;
        });
    };
    run();
    const t = setInterval(run, ms);
    t.unref();
    timers.push(t);
  }

  const polledAt = (p: Polled<unknown>) => ({
    polled_at: p.at !== undefined ? new Date(p.at).toISOString() : null,
    ...(p.error !== undefined ? { poll_error: p.error } : {}),
  });

  return {
    add(s: SourceFns) {
      if (s.cache) poll(cache, s.cache, CACHE_POLL_MS, 'cache');
      if (s.queue) poll(queue, s.queue, QUEUE_POLL_MS, 'queue');
      if (s.store) storeFn = s.store;
    },
    cache: () => cache.value,
    queue: () => queue.value,
    store: (): StorePoolStats | undefined => {
      try {
        return storeFn?.();
      } catch {
        return undefined;
      }
    },
    cacheView(): Record<string, unknown> | null {
      if (cache.value === undefined && cache.error === undefined) return null;
      return { ...(cache.value ?? {}), ...polledAt(cache) };
    },
    queueView(): Record<string, unknown> | null {
      const q = queue.value;
      if (q === undefined && queue.error === undefined) return null;
      return {
        ...(q
          ? {
              engine: q.engine,
              workers: q.workers,
              depth: q.depth.high + q.depth.normal + q.depth.low,
              depth_by_band: q.depth,
              delayed: q.delayed,
              active: q.active,
              completed: q.completed,
              failed: q.failed,
              cancelled: q.cancelled,
              retried: q.retried,
              wait_ms: q.waitMs,
              run_ms: q.runMs,
            }
          : {}),
        ...polledAt(queue),
      };
    },
    close() {
      for (const t of timers) clearInterval(t);
    },
  };
}
