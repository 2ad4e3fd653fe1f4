import { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker.js';
import type { LoadedModel, UpstreamAdapter, UpstreamHealth } from './types.js';

/*
 * The live state of one upstream as routing, the health monitor, /health, /api/v1/agents and the
 * metrics all read it: its capacity (slots, weight, allow-list), circuit breaker, last probe,
 * loaded models (Ollama /api/ps) and the models its last listing named.
 */

/** Ollama tags default to `latest`: both spellings must find the same model. */
export function modelAlias(name: string): string | undefined {
  if (name.endsWith(':latest')) return name.slice(0, -':latest'.length);
  if (!name.includes(':')) return `${name}:latest`;
  return undefined;
}

/** A set of model names that answers for both spellings (`x` ≡ `x:latest`). */
function nameSet(names: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const n of names) {
    set.add(n);
    const other = modelAlias(n);
    if (other !== undefined) set.add(other);
  }
  return set;
}

export interface LastProbe extends UpstreamHealth {
  at: number;
}

export class Member {
  readonly id: string;
  readonly slots: number;
  readonly weight: number;
  /** Models routed here (undefined = every model it lists). */
  readonly allow: ReadonlySet<string> | undefined;
  readonly warm: readonly string[];
  readonly breaker: CircuitBreaker;
  probe: LastProbe | undefined = undefined;
  /** Models loaded in memory (Ollama /api/ps); undefined = unknown (then every model counts as loaded). */
  loaded: readonly LoadedModel[] | undefined = undefined;
  private loadedNames: ReadonlySet<string> = new Set();
  /** Models its last successful listing named (both spellings). */
  listed: ReadonlySet<string> = new Set();
  /** Calls that failed here and were retried on another upstream. */
  retries = 0;
  /** Told of every breaker change (the health monitor schedules recovery probes). */
  listener: ((m: Member, state: BreakerState) => void) | undefined = undefined;

  constructor(
    readonly adapter: UpstreamAdapter,
    breaker: BreakerOptions = {},
    defaultSlots = 4,
  ) {
    const cfg = adapter.config;
    this.id = adapter.id;
    this.slots = cfg?.slots ?? defaultSlots;
    this.weight = cfg?.weight ?? 1;
    this.allow = cfg?.models === undefined ? undefined : nameSet(cfg.models);
    this.warm = cfg?.warm ?? [];
    this.breaker = new CircuitBreaker(breaker, (state) => this.listener?.(this, state));
  }

  /** Requests from this gateway open against it (streams until they end). */
  outstanding(): number {
    return this.adapter.inFlight?.() ?? this.adapter.poolStats().running;
  }

  /** Whether the allow-list lets `model` be routed here. */
  allows(model: string): boolean {
    return this.allow === undefined || this.allow.has(model);
  }

  /** Whether `model` is in memory here (true when unknown: OpenAI-compatible servers, no /api/ps). */
  hasLoaded(model: string): boolean {
    return this.loaded === undefined || this.loadedNames.has(model);
  }

  setLoaded(models: readonly LoadedModel[] | undefined): void {
    this.loaded = models;
    this.loadedNames = nameSet(models?.map((m) => m.name) ?? []);
  }

  setListed(names: readonly string[]): void {
    this.listed = nameSet(names);
  }

  get state(): BreakerState {
    return this.breaker.state;
  }
}
