import { decodeAnswer, encodeAnswer, type CachedAnswer } from './entry.js';
import type { CacheStore } from './store.js';

/** An L1 entry: the decoded answer and its serialized size (what the byte bound counts). */
export interface L1Entry {
  answer: CachedAnswer;
  bytes: number;
}

export type Tier = 'l1' | 'l2';

export interface TieredHit {
  answer: CachedAnswer;
  tier: Tier;
  /** Remaining TTL, ms. */
  ttlMs: number;
}

export interface TieredCache {
  get(key: string): Promise<TieredHit | undefined>;
  /** Write both tiers. L1 is written before the first await, so it is readable on return of the call. */
  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Resolves when every write started so far has settled. */
  idle(): Promise<void>;
}

export interface TieredDeps {
  /** undefined = L1 disabled (cacheMaxBytes 0). */
  l1?: CacheStore<L1Entry>;
  /** undefined = no Redis configured. */
  l2?: CacheStore<string>;
  /** Upper bound for a promoted entry's TTL (an L2 entry without expiry gets this), ms. */
  maxTtlMs: number;
}

/**
 * L1 in front of L2. A hit in L2 is promoted to L1 with the TTL it has left in Redis, never a
 * fresh one, so both tiers expire an answer at the same moment.
 */
export function createTieredCache(deps: TieredDeps): TieredCache {
  const { l1, l2 } = deps;
  const pending = new Set<Promise<void>>();

  function track(p: Promise<void>): Promise<void> {
    pending.add(p);
    void p.finally(() => pending.delete(p));
    return p;
  }

  return {
    async get(key) {
      if (l1) {
        const hit = await l1.get(key);
        if (hit) return { answer: hit.value.answer, tier: 'l1', ttlMs: hit.ttlMs };
      }
      if (!l2) return undefined;
      const hit = await l2.get(key);
      if (!hit) return undefined;
      const answer = decodeAnswer(hit.value);
      if (!answer) return undefined;
      const ttlMs = Math.min(hit.ttlMs, deps.maxTtlMs);
      if (l1) await l1.set(key, { answer, bytes: Buffer.byteLength(hit.value, 'utf8') }, ttlMs);
      return { answer, tier: 'l2', ttlMs };
    },
    set(key, answer, ttlMs) {
      const text = encodeAnswer(answer);
      // With L2, L1 keeps the decoded form of exactly what L2 holds, so both tiers replay
      // identically; without L2 the answer itself is that form (no decode round trip).
      const stored = l2 ? decodeAnswer(text) : answer;
      if (!stored) return Promise.resolve();
      const writes: Promise<void>[] = [];
      if (l1) writes.push(l1.set(key, { answer: stored, bytes: Buffer.byteLength(text, 'utf8') }, ttlMs));
      if (l2) writes.push(l2.set(key, text, ttlMs));
      return track(Promise.all(writes).then(() => undefined));
    },
    async delete(key) {
      await Promise.all([l1?.delete(key), l2?.delete(key)]);
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
