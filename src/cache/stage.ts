import type {
  CacheStatus,
  EmbedOutcome,
  GenerationResult,
  RequestContext,
  Stage,
} from '../pipeline/pipeline.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import { ChunkList, finalChunk } from '../pipeline/stream.js';
import type { Chunk, EmbedRequest, GenerationRequest } from '../pipeline/types.js';
import { cacheKey } from './keys.js';
import type { Merger } from './stream-merger.js';
import type { PromiseMerger } from './promise-merger.js';
import { decideCaching, type CacheMode, type SampledPolicies } from './policy.js';
import type { TieredCache } from './tiered.js';

export interface CacheStageDeps {
  cache: TieredCache;
  merger: Merger;
  embedMerger: PromiseMerger<EmbedOutcome>;
  mode: CacheMode;
  /** Per-surface policy for sampled requests (SUTAZAI_CACHE_SAMPLED_*); absent = cache them all. */
  sampled?: SampledPolicies;
  /** TTL of new entries, ms. */
  ttlMs: number;
  /** Namespace prefix of every key (config cachePrefix). */
  prefix: string;
  /** Entries per API key (SUTAZAI_CACHE_PER_KEY) instead of shared by every key. Default false. */
  perKey?: boolean;
}

/** Counters of what the stage did with each request. */
export interface CacheStageStats {
  requests: number;
  hitsL1: number;
  hitsL2: number;
  /** Lookups that found nothing and started an upstream call. */
  misses: number;
  /** Requests answered by joining an identical in-flight request. */
  merged: number;
  bypass: number;
  /** Complete answers written to the cache. */
  writes: number;
  /** Streams that ended without a `done` chunk (not written). */
  incomplete: number;
}

export interface CacheStage extends Stage {
  stats(): CacheStageStats;
}

/**
 * The response cache and in-flight merging as one pipeline stage.
 * hit → replay cached chunks ('hit-l1' | 'hit-l2'); miss → one upstream call shared by every
 * identical concurrent request ('miss' for the first, 'merged' for joiners), written to the
 * cache only once a `done` chunk has arrived; not cacheable → 'bypass'.
 */
export function createCacheStage(deps: CacheStageDeps): CacheStage {
  const { cache, merger, embedMerger, mode, ttlMs, prefix } = deps;
  const sampled = deps.sampled;
  const scopeOf = (ctx: RequestContext) => (deps.perKey ? ctx.caller.keyId : undefined);
  const s: CacheStageStats = {
    requests: 0,
    hitsL1: 0,
    hitsL2: 0,
    misses: 0,
    merged: 0,
    bypass: 0,
    writes: 0,
    incomplete: 0,
  };

  async function write(
    key: string,
    chunks: readonly Chunk[],
    model: string,
    upstream: string,
  ): Promise<void> {
    if (finalChunk(chunks) === undefined) {
      s.incomplete++;
      return;
    }
    s.writes++;
    await cache.set(key, { kind: 'gen', model, upstream, chunks: [...chunks] }, ttlMs);
  }

  /** Pass chunks through; write them once the stream has ended normally with `done`. */
  async function* writeThrough(key: string, r: GenerationResult): AsyncGenerator<Chunk> {
    const seen: Chunk[] = [];
    for await (const c of r.chunks) {
      seen.push(c);
      yield c;
    }
    await write(key, seen, r.model, r.upstream);
  }

  return {
    name: 'cache',
    stats: () => ({ ...s }),

    async generate(req: GenerationRequest, ctx: RequestContext, next): Promise<GenerationResult> {
      s.requests++;
      const decision = decideCaching(req, ctx, mode, sampled);
      if (decision.merge && !decision.lookup) {
        // Sampled: never cached, but identical requests in flight together share one call.
        const key = cacheKey(prefix, req);
        const sub = await merger.join(key, {
          signal: ctx.signal,
          start: (signal) => next({ ...ctx, signal }),
        });
        if (sub.leader) s.bypass++;
        else s.merged++;
        return {
          chunks: sub.chunks,
          model: sub.model,
          upstream: sub.upstream,
          cache: sub.leader ? 'bypass' : 'merged',
        };
      }
      if (!decision.lookup) {
        s.bypass++;
        const r = await next();
        if (!decision.store) return { ...r, cache: 'bypass' };
        // no-cache: a fresh answer that refreshes the entry.
        return { ...r, chunks: writeThrough(cacheKey(prefix, req, scopeOf(ctx)), r), cache: 'bypass' };
      }
      const key = cacheKey(prefix, req, scopeOf(ctx));
      if (!merger.has(key)) {
        const hit = await cache.get(key);
        if (hit?.answer.kind === 'gen') {
          if (hit.tier === 'l1') s.hitsL1++;
          else s.hitsL2++;
          const status: CacheStatus = hit.tier === 'l1' ? 'hit-l1' : 'hit-l2';
          return {
            chunks: new ChunkList(hit.answer.chunks),
            model: hit.answer.model,
            upstream: hit.answer.upstream,
            cache: status,
          };
        }
      }
      const sub = await merger.join(key, {
        signal: ctx.signal,
        start: (signal) => next({ ...ctx, signal }),
        onComplete: (chunks, meta) => write(key, chunks, meta.model, meta.upstream),
      });
      if (sub.leader) s.misses++;
      else s.merged++;
      return {
        chunks: sub.chunks,
        model: sub.model,
        upstream: sub.upstream,
        cache: sub.leader ? 'miss' : 'merged',
      };
    },

    async embed(req: EmbedRequest, ctx: RequestContext, next): Promise<EmbedOutcome> {
      s.requests++;
      const decision = decideCaching(req, ctx, mode, sampled);
      if (!decision.lookup && !decision.store) {
        s.bypass++;
        return { ...(await next()), cache: 'bypass' };
      }
      const key = cacheKey(prefix, req, scopeOf(ctx));
      if (decision.lookup) {
        const hit = await cache.get(key);
        if (hit?.answer.kind === 'embed') {
          if (hit.tier === 'l1') s.hitsL1++;
          else s.hitsL2++;
          return {
            result: hit.answer.result,
            upstream: hit.answer.upstream,
            cache: hit.tier === 'l1' ? 'hit-l1' : 'hit-l2',
          };
        }
      } else s.bypass++;
      const run = async (signal: CancelSignal): Promise<EmbedOutcome> => {
        const out = await next({ ...ctx, signal });
        s.writes++;
        void cache.set(key, { kind: 'embed', upstream: out.upstream, result: out.result }, ttlMs);
        return out;
      };
      if (!decision.lookup) return { ...(await run(ctx.signal)), cache: 'bypass' };
      const { value, leader } = await embedMerger.join(key, ctx.signal, run);
      if (leader) s.misses++;
      else s.merged++;
      return { ...value, cache: leader ? 'miss' : 'merged' };
    },
  };
}
