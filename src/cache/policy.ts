import type { RequestContext } from '../pipeline/pipeline.js';
import type { Caller, EmbedRequest, GenerationRequest } from '../pipeline/types.js';

/** SUTAZAI_CACHE_MODE: cache every response, only deterministic ones, or none. */
export type CacheMode = 'all' | 'deterministic' | 'off';

/**
 * What a surface does with a sampled request (temperature ≠ 0 and no seed): `cache` it by prompt
 * like any other, or only `merge` it with identical requests in flight at the same moment (a
 * chat UI's "regenerate" then gets a new answer).
 */
export type SampledPolicy = 'cache' | 'merge';

/** Per-surface policy for sampled requests; a surface not listed gets `merge` (no map: all `cache`). */
export type SampledPolicies = Partial<Record<Caller['surface'], SampledPolicy>>;

export interface CacheDecision {
  /** May the answer come from the cache or an identical in-flight request? */
  lookup: boolean;
  /** May a fresh, complete answer be written to the cache? */
  store: boolean;
  /** May the request join (or lead) an identical in-flight request when `lookup` is false? */
  merge: boolean;
  reason: 'cacheable' | 'mode-off' | 'opt-out' | 'no-store' | 'no-cache' | 'non-deterministic' | 'sampled';
}

const BYPASS = (reason: CacheDecision['reason']): CacheDecision => ({
  lookup: false,
  store: false,
  merge: false,
  reason,
});
const SAMPLED: CacheDecision = { lookup: false, store: false, merge: true, reason: 'sampled' };
const NO_CACHE: CacheDecision = { lookup: false, store: true, merge: false, reason: 'no-cache' };
const CACHEABLE: CacheDecision = { lookup: true, store: true, merge: true, reason: 'cacheable' };

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
 * - mode `deterministic` → only temperature 0 or fixed-seed requests (and embeddings);
 * - mode `all`: a sampled request (temperature ≠ 0 or unset, no seed) follows its surface's
 *   policy (`sampled`): `cache` like any other, or `merge` = no cache read or write, but identical
 *   requests in flight together still share one upstream call.
 * Errors and incomplete streams are never written; that rule lives with the writer (stage.ts).
 */
export function decideCaching(
  req: GenerationRequest | EmbedRequest,
  ctx: Pick<RequestContext, 'cacheControl'> & { caller?: Pick<Caller, 'surface'> },
  mode: CacheMode,
  sampled?: SampledPolicies,
): CacheDecision {
  if (mode === 'off') return BYPASS('mode-off');
  if (!req.cache.use) return BYPASS('opt-out');
  const cc = directives(ctx.cacheControl);
  if (cc.has('no-store')) return BYPASS('no-store');
  const deterministic = isDeterministic(req);
  if (mode === 'deterministic' && !deterministic) return BYPASS('non-deterministic');
  if (cc.has('no-cache')) return NO_CACHE;
  if (!deterministic && sampled && (sampled[ctx.caller?.surface ?? 'v1'] ?? 'merge') === 'merge')
    return SAMPLED;
  return CACHEABLE;
}
