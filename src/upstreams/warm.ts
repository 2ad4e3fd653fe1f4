import { deadline } from './deadline.js';
import type { Member } from './member.js';

/*
 * Warm models (SUTAZAI_WARM_MODELS, `;warm=a|b`): preloaded on each upstream that lists them and
 * kept resident. Run after every probe round, it reads the loaded models the probe just fetched
 * (Ollama /api/ps): a warm model that is not loaded, or whose unload time is near (a client's own
 * keep_alive replaced ours), is loaded again with `keep_alive: -1`.
 */

/** A loaded model expiring sooner than this is pinned again. */
const REPIN_BEFORE_MS = 60_000;
/** A model load may take minutes on a large model. */
const PRELOAD_TIMEOUT_MS = 600_000;

export interface WarmKeeper {
  /** Preload what is missing now (never waits; one load per upstream and model at a time). */
  check(): void;
  /** Loads in flight (tests, shutdown). */
  pending(): Promise<void>;
  close(): void;
}

export function createWarmKeeper(
  members: readonly Member[],
  onError: (upstream: string, model: string, err: unknown) => void = () => undefined,
): WarmKeeper {
  const inFlight = new Map<string, Promise<void>>();
  const closed = new AbortController();

  function needsLoad(m: Member, model: string, now: number): boolean {
    if (m.loaded === undefined || !m.listed.has(model)) return false;
    const found = m.loaded.find((l) => l.name === model || l.name === `${model}:latest`);
    if (found === undefined) return true;
    const expires = found.expiresAt === undefined ? NaN : Date.parse(found.expiresAt);
    return Number.isFinite(expires) && expires - now < REPIN_BEFORE_MS;
  }

  return {
    check() {
      const now = Date.now();
      for (const m of members) {
        const adapter = m.adapter;
        if (m.warm.length === 0 || adapter.preload === undefined || !m.breaker.closed) continue;
        for (const model of m.warm) {
          const key = `${m.id}\u0000${model}`;
          if (inFlight.has(key) || closed.signal.aborted || !needsLoad(m, model, now)) continue;
          const limit = deadline(closed.signal, PRELOAD_TIMEOUT_MS);
          const p = adapter
            .preload(model, limit.signal)
            .catch((err: unknown) => {
              if (!closed.signal.aborted) onError(m.id, model, err);
            })
            .finally(() => {
              limit.clear();
              inFlight.delete(key);
            });
          inFlight.set(key, p);
        }
      }
    },
    async pending() {
      await Promise.all(inFlight.values());
    },
    close() {
      closed.abort();
    },
  };
}
