import { errors, isGatewayError } from '../errors/catalogue.js';
import type { ModelInfo } from '../pipeline/types.js';
import { createOllamaAdapter } from './ollama/adapter.js';
import { createOpenAIAdapter } from './openai/adapter.js';
import { slotsOf as configSlots, type UpstreamConfig } from '../config/upstreams.js';
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
  adapters: readonly UpstreamAdapter[];
  /** Background refresh period, ms. Default 10000. */
  refreshMs?: number;
  /** Minimum gap between refreshes triggered by an unknown model, ms. Default 1000. */
  minRefreshGapMs?: number;
  /** Limit for one round of listModels calls, ms. Default 5000. */
  refreshTimeoutMs?: number;
}

/** Model name → adapter. Satisfies the pipeline's ModelRouter. */
export interface ModelCatalog {
  /**
   * The adapter serving `model` (`name` ≡ `name:latest`); the least busy reachable one when several
   * do. Unknown model: SUTAZAI_ERR_MODEL_NOT_FOUND if some upstream was listed, or
   * SUTAZAI_ERR_UPSTREAM_UNAVAILABLE if every upstream refused the connection; if listings failed
   * otherwise (timeout, busy), an adapter is returned so the call itself reports the real status.
   */
  resolve(model: string): Promise<UpstreamAdapter>;
  /** Merged model list (deduplicated by name); waits for the first refresh if none finished yet. */
  list(): Promise<ModelInfo[]>;
  /** Sum of `slots` of the reachable upstreams serving `model`; 0 when none (see ModelRouter). */
  capacity(model: string): number;
  /** The latest merged list, without waiting. */
  snapshot(): readonly ModelInfo[];
  /** Re-read every upstream's model list now (concurrent callers share one round). */
  refresh(): Promise<void>;
  close(): void;
}

/** Never empty: an entry is created with its first slot. */
type Candidates = [Slot, ...Slot[]];

interface Slot {
  adapter: UpstreamAdapter;
  /** Pre-resolved promise, so resolving a known model allocates nothing. */
  resolved: Promise<UpstreamAdapter>;
  reachable: boolean;
  /** Why the last listing failed (undefined after a success). */
  lastError: unknown;
  /** Models from the last successful listing (kept while the upstream is unreachable). */
  models: ModelInfo[];
}

function slotsOf(a: UpstreamAdapter): number {
  return a.config === undefined ? 4 : configSlots(a.config);
}

function isUnavailable(err: unknown): boolean {
  return isGatewayError(err) && err.code === 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE';
}

/** Ollama tags default to `latest`: both spellings must find the same model. */
function alias(name: string): string | undefined {
  if (name.endsWith(':latest')) return name.slice(0, -':latest'.length);
  if (!name.includes(':')) return `${name}:latest`;
  return undefined;
}

export function createModelCatalog(opts: ModelCatalogOptions): ModelCatalog {
  const refreshMs = opts.refreshMs ?? 10_000;
  const minGapMs = opts.minRefreshGapMs ?? 1000;
  const refreshTimeoutMs = opts.refreshTimeoutMs ?? 5000;
  if (opts.adapters.length === 0) throw new Error('model catalog needs at least one upstream');
  if (!(refreshMs > 0)) throw new Error('refreshMs must be > 0');

  const slots: Slot[] = opts.adapters.map((adapter) => ({
    adapter,
    resolved: Promise.resolve(adapter),
    reachable: false,
    lastError: undefined,
    models: [],
  }));
  const everySlot = slots as Candidates; // non-empty: checked above
  const closed = new AbortController();
  let byName = new Map<string, Candidates>();
  let merged: ModelInfo[] = [];
  let lastRefreshAt = 0;
  let refreshed = false;
  let inflight: Promise<void> | undefined;

  function rebuild(): void {
    const map = new Map<string, Candidates>();
    const names = new Set<string>();
    const list: ModelInfo[] = [];
    const add = (key: string, slot: Slot): void => {
      const found = map.get(key);
      if (found === undefined) map.set(key, [slot]);
      else if (!found.includes(slot)) found.push(slot);
    };
    for (const slot of slots) {
      for (const m of slot.models) {
        add(m.name, slot);
        const other = alias(m.name);
        if (other !== undefined) add(other, slot);
        if (!names.has(m.name)) {
          names.add(m.name);
          list.push(m);
        }
      }
    }
    byName = map;
    merged = list;
  }

  async function doRefresh(): Promise<void> {
    lastRefreshAt = Date.now();
    const signal = AbortSignal.any([closed.signal, AbortSignal.timeout(refreshTimeoutMs)]);
    const results = await Promise.allSettled(slots.map((s) => s.adapter.listModels(signal)));
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

  /** Fewest in-flight requests from this gateway among reachable candidates. */
  function pick(candidates: Candidates): Promise<UpstreamAdapter> {
    let best: Slot | undefined;
    let bestLoad = Infinity;
    for (const s of candidates) {
      if (!s.reachable && best !== undefined) continue;
      const load = s.adapter.inFlight?.() ?? s.adapter.poolStats().running;
      if (best === undefined || (s.reachable && !best.reachable) || load < bestLoad) {
        best = s;
        bestLoad = load;
      }
    }
    return (best ?? candidates[0]).resolved;
  }

  async function resolveSlow(model: string): Promise<UpstreamAdapter> {
    if (!refreshed || Date.now() - lastRefreshAt >= minGapMs) await refresh();
    else if (inflight !== undefined) await inflight;
    const found = byName.get(model);
    if (found !== undefined) return pick(found);
    if (slots.some((s) => s.reachable)) throw errors.modelNotFound(model);
    if (slots.every((s) => isUnavailable(s.lastError))) {
      throw errors.upstreamUnavailable(slots.map((s) => s.adapter.id).join(','));
    }
    // No upstream could be listed, but not all refused connections (slow, busy, failing): let an
    // adapter try the call so the caller gets the precise answer (504, 503 busy, 404...) rather
    // than a guess from a failed listing.
    return pick(everySlot);
  }

  void refresh();
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();

  return {
    resolve(model) {
      const found = byName.get(model);
      return found !== undefined ? pick(found) : resolveSlow(model);
    },
    async list() {
      if (!refreshed) await refresh();
      return merged;
    },
    capacity(model) {
      let sum = 0;
      for (const s of byName.get(model) ?? []) if (s.reachable) sum += slotsOf(s.adapter);
      return sum;
    },
    snapshot: () => merged,
    refresh,
    close() {
      clearInterval(timer);
      closed.abort();
    },
  };
}
