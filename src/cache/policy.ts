import type { RequestContext } from '../pipeline/pipeline.js';
import type { EmbedRequest, GenerationRequest } from '../pipeline/types.js';

/** SUTAZAI_CACHE_MODE: cache every response, only deterministic ones, or none. */
export type CacheMode = 'all' | 'deterministic' | 'off';

export interface CacheDecision {
  /** May the answer come from the cache or an identical in-flight request? */
  lookup: boolean;
  /** May a fresh, complete answer be written to the cache? */
  store: boolean;
  reason: 'cacheable' | 'mode-off' | 'opt-out' | 'no-store' | 'no-cache' | 'non-deterministic';
}

const BYPASS = (reason: CacheDecision['reason']): CacheDecision => ({ lookup: false, store: false, reason });

/** Temperature 0 or a fixed seed: the same request gives the same answer. Embeddings always do. */
export function isDeterministic(req: GenerationRequest | EmbedRequest): boolean {
  if (req.kind === 'embed') return true;
  return req.options.temperature === 0 || req.options.seed !== undefined;
}

function directives(cacheControl: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!cacheControl) return out;
  for (const part of cacheControl.toLowerCase().split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (!name) continue;
    out.add(name === 'max-age' && value?.trim() === '0' ? 'no-cache' : name);
  }
  return out;
}

/**
 * The one place that decides whether a response may be cached or merged.
 * - mode `off`, `use_cache:false`, `Cache-Control: no-store` → neither read nor write;
 * - `Cache-Control: no-cache` (or max-age=0) → a fresh answer, which then refreshes the entry;
 * - mode `deterministic` → only temperature 0 or fixed-seed requests (and embeddings).
 * Errors and incomplete streams are never written; that rule lives with the writer (stage.ts).
 */
export function decideCaching(
  req: GenerationRequest | EmbedRequest,
  ctx: Pick<RequestContext, 'cacheControl'>,
  mode: CacheMode,
): CacheDecision {
  if (mode === 'off') return BYPASS('mode-off');
  if (!req.cache.use) return BYPASS('opt-out');
  const cc = directives(ctx.cacheControl);
  if (cc.has('no-store')) return BYPASS('no-store');
  if (mode === 'deterministic' && !isDeterministic(req)) return BYPASS('non-deterministic');
  if (cc.has('no-cache')) return { lookup: false, store: true, reason: 'no-cache' };
  return { lookup: true, store: true, reason: 'cacheable' };
}
