import type { CallerKey } from '../pipeline/types.js';
import { WINDOW_MS, type LimitDecision, type Limiter } from './types.js';

interface Counters {
  requests: number;
  requestsReset: number;
  tokens: number;
  tokensReset: number;
  inFlight: number;
}

/** The limiter of a single process (no REDIS_URL): the same rules as the Redis one, in a Map. */
export function createMemoryLimiter(now: () => number = Date.now): Limiter {
  const byKey = new Map<string, Counters>();
  const countersOf = (id: string) => {
    let c = byKey.get(id);
    if (c === undefined) {
      c = { requests: 0, requestsReset: 0, tokens: 0, tokensReset: 0, inFlight: 0 };
      byKey.set(id, c);
    }
    return c;
  };
  // Idle keys are forgotten once their windows are over and nothing is in flight.
  const sweep = setInterval(() => {
    const t = now();
    for (const [id, c] of byKey)
      if (c.inFlight === 0 && c.requestsReset <= t && c.tokensReset <= t) byKey.delete(id);
  }, WINDOW_MS);
  sweep.unref();

  return {
    acquire(id, l: CallerKey, est): LimitDecision {
      const c = countersOf(id);
      const t = now();
      if (c.requestsReset <= t) {
        c.requests = 0;
        c.requestsReset = t + WINDOW_MS;
      }
      if (c.tokensReset <= t) {
        c.tokens = 0;
        c.tokensReset = t + WINDOW_MS;
      }
      let reason: LimitDecision['reason'];
      if (l.rpm !== undefined && c.requests + 1 > l.rpm) reason = 'requests';
      else if (l.tpm !== undefined && c.tokens + est > l.tpm && c.tokens > 0) reason = 'tokens';
      else if (l.concurrency !== undefined && c.inFlight + 1 > l.concurrency) reason = 'concurrency';
      if (reason === undefined) {
        c.requests++;
        c.tokens += est;
        if (l.concurrency !== undefined) c.inFlight++;
      }
      return {
        ok: reason === undefined,
        ...(reason ? { reason } : {}),
        remainingRequests: Math.max(0, (l.rpm ?? 0) - c.requests),
        remainingTokens: Math.max(0, (l.tpm ?? 0) - c.tokens),
        resetRequestsMs: c.requestsReset - t,
        resetTokensMs: c.tokensReset - t,
      };
    },
    finish(id, l, delta) {
      const c = byKey.get(id);
      if (c === undefined) return;
      c.tokens = Math.max(0, c.tokens + delta);
      if (l.concurrency !== undefined && c.inFlight > 0) c.inFlight--;
    },
    async close() {
      clearInterval(sweep);
    },
  };
}
