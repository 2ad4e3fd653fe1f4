import { GatewayError, errors, isGatewayError } from '../errors/catalogue.js';
import type { ModelInfo } from '../pipeline/types.js';
import { createOllamaAdapter } from './ollama/adapter.js';
import { createOpenAIAdapter } from './openai/adapter.js';
import type { UpstreamConfig } from '../config/upstreams.js';
import { deadline } from './deadline.js';
import { Route, type RouteHost } from './failover.js';
import { Member, modelAlias } from './member.js';
import { choose } from './pick.js';
import type { UpstreamAdapter } from './types.js';

/** One adapter per configured upstream, chosen by kind. Fails at start-up on duplicate ids. */
export function createUpstreams(configs: readonly UpstreamConfig[]): UpstreamAdapter[] {
  const seen = new Set<string>();
  return configs.map((cfg) => {
    if (seen.has(cfg.id)) throw new Error(`duplicate upstream id '${cfg.id}'`);
    seen.add(cfg.id);
    return cfg.kind === 'ollama' ? createOllamaAdapter(cfg) : createOpenAIAdapter(cfg);
  });
}

export interface ModelCatalogOptions {
  /** The upstreams with their live state (shared with the health monitor). */
  members?: readonly Member[];
  /** Used when `members` is not given (each wrapped in a Member with default breaker settings). */
  adapters?: readonly UpstreamAdapter[];
  /** Background refresh period, ms. Default 10000. */
  refreshMs?: number;
  /** Minimum gap between refreshes triggered by an unknown model, ms. Default 1000. */
  minRefreshGapMs?: number;
  /** Limit for one round of listModels calls, ms. Default 5000. */
  refreshTimeoutMs?: number;
  /** Retries on another upstream for a call that failed before any byte was received. Default 2. */
  retries?: number;
}

/** Model name → upstreams. Satisfies the pipeline's ModelRouter. */
export interface ModelCatalog {
  /**
   * The route for `model` (`name` ≡ `name:latest`) over the upstreams serving it: power of two
   * choices on outstanding/slots among closed circuits, loaded models first, failover on a peer.
   * Unknown model: SUTAZAI_ERR_MODEL_NOT_FOUND if some upstream was listed, or
   * SUTAZAI_ERR_UPSTREAM_UNAVAILABLE if every upstream refused the connection; if listings failed
   * otherwise (timeout, busy), a route over every upstream, so the call reports the real status.
   */
  resolve(model: string): Promise<Route>;
  /** Merged model list (deduplicated by name); waits for the first refresh if none finished yet. */
  list(): Promise<ModelInfo[]>;
  /** Sum of `slots` of the upstreams serving `model` whose circuit is closed; 0 when none. */
  capacity(model: string): number;
  /** The latest merged list, without waiting. */
  snapshot(): readonly ModelInfo[];
  /** Re-read every upstream's model list now (concurrent callers share one round). */
  refresh(): Promise<void>;
  readonly members: readonly Member[];
  close(): void;
}

interface Slot {
  member: Member;
  reachable: boolean;
  /** Why the last listing failed (undefined after a success). */
  lastError: unknown;
  /** Models from the last successful listing (kept while the upstream is unreachable). */
  models: ModelInfo[];
}

const NONE: readonly Member[] = [];

function isUnavailable(err: unknown): boolean {
  return isGatewayError(err) && err.code === 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE';
}

export function createModelCatalog(opts: ModelCatalogOptions): ModelCatalog {
  const refreshMs = opts.refreshMs ?? 10_000;
  const minGapMs = opts.minRefreshGapMs ?? 1000;
  const refreshTimeoutMs = opts.refreshTimeoutMs ?? 5000;
  const members = opts.members ?? (opts.adapters ?? []).map((a) => new Member(a));
  if (members.length === 0) throw new Error('model catalog needs at least one upstream');
  if (!(refreshMs > 0)) throw new Error('refreshMs must be > 0');

  const slots: Slot[] = members.map((member) => ({
    member,
    reachable: false,
    lastError: undefined,
    models: [],
  }));
  const closed = new AbortController();
  let byName = new Map<string, Member[]>();
  let merged: ModelInfo[] = [];
  let lastRefreshAt = 0;
  let refreshed = false;
  let inflight: Promise<void> | undefined;

  function rebuild(): void {
    const map = new Map<string, Member[]>();
    const names = new Set<string>();
    const list: ModelInfo[] = [];
    const add = (key: string, m: Member): void => {
      if (!m.allows(key)) return;
      const found = map.get(key);
      if (found === undefined) map.set(key, [m]);
      else if (!found.includes(m)) found.push(m);
    };
    for (const slot of slots) {
      const m = slot.member;
      m.setListed(slot.models.map((x) => x.name));
      for (const info of slot.models) {
        if (!m.allows(info.name)) continue;
        add(info.name, m);
        const other = modelAlias(info.name);
        if (other !== undefined) add(other, m);
        if (!names.has(info.name)) {
          names.add(info.name);
          list.push(info);
        }
      }
    }
    byName = map;
    merged = list;
  }

  async function doRefresh(): Promise<void> {
    lastRefreshAt = Date.now();
    const limit = deadline(closed.signal, refreshTimeoutMs);
    const results = await Promise.allSettled(slots.map((s) => s.member.adapter.listModels(limit.signal)));
    limit.clear();
    results.forEach((r, i) => {
      const slot = slots[i];
      if (slot === undefined) return;
      slot.reachable = r.status === 'fulfilled';
      if (r.status === 'fulfilled') {
        slot.models = r.value;
        slot.lastError = undefined;
      } else slot.lastError = r.reason;
    });
    refreshed = true;
    rebuild();
  }

  function refresh(): Promise<void> {
    inflight ??= doRefresh().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const host: RouteHost = {
    pick: choose,
    noneLeft(model, candidates) {
      const why = candidates.map((m) => `${m.id}: circuit ${m.state} (${m.breaker.reason ?? 'probing'})`);
      const retryAfter = Math.min(...candidates.map((m) => m.breaker.retryAfterS()));
      return new GatewayError(
        'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE',
        `no healthy upstream serves model '${model}': ${why.join('; ')}`,
        { retryAfter: Number.isFinite(retryAfter) ? retryAfter : 1 },
      );
    },
    stale() {
      if (Date.now() - lastRefreshAt >= minGapMs) void refresh();
    },
    retries: opts.retries ?? 2,
  };

  async function resolveSlow(model: string): Promise<Route> {
    if (!refreshed || Date.now() - lastRefreshAt >= minGapMs) await refresh();
    else if (inflight !== undefined) await inflight;
    const found = byName.get(model);
    if (found !== undefined) return route(model, found);
    if (slots.some((s) => s.reachable)) throw errors.modelNotFound(model);
    if (slots.every((s) => isUnavailable(s.lastError))) {
      throw errors.upstreamUnavailable(slots.map((s) => s.member.id).join(','));
    }
    // No upstream could be listed, but not all refused connections (slow, busy, failing): let an
    // upstream try the call so the caller gets the precise answer (504, 503 busy, 404...) rather
    // than a guess from a failed listing.
    return route(model, members);
  }

  /** The route over `candidates`, its first upstream picked now; 503 when every circuit is open. */
  function route(model: string, candidates: readonly Member[]): Route {
    const first = choose(model, candidates, NONE);
    if (first === undefined) throw host.noneLeft(model, candidates);
    return new Route(host, model, candidates, first);
  }

  void refresh();
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();

  return {
    resolve(model) {
      const found = byName.get(model);
      if (found === undefined) return resolveSlow(model);
      return new Promise<Route>((resolve) => resolve(route(model, found)));
    },
    async list() {
      if (!refreshed) await refresh();
      return merged;
    },
    capacity(model) {
      let sum = 0;
      for (const m of byName.get(model) ?? []) if (m.breaker.closed) sum += m.slots;
      return sum;
    },
    snapshot: () => merged,
    refresh,
    members,
    close() {
      clearInterval(timer);
      closed.abort();
    },
  };
}
