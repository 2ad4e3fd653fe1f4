import type { BreakerState } from './breaker.js';
import { deadline } from './deadline.js';
import type { Member } from './member.js';

export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

export interface UpstreamStatus {
  id: string;
  kind: string;
  url: string;
  status: HealthState;
  latencyMs: number;
  version?: string;
  error?: string;
  checkedAt: string;
  /** Generations it runs at once (config). */
  slots: number;
  weight: number;
  /** Requests from this gateway open against it now. */
  outstanding: number;
  /** The allow-list, when one is configured. */
  models?: readonly string[];
  /** Models in memory (Ollama /api/ps); absent when the server cannot tell. */
  loaded?: ReadonlyArray<{ name: string; expiresAt?: string }>;
  breaker: {
    state: BreakerState;
    /** Consecutive counted failures while closed. */
    failures: number;
    /** Times the circuit opened since start. */
    opened: number;
    /** When an open circuit is probed next (ISO time). */
    retryAt?: string;
    reason?: string;
  };
  /** Calls that failed here and were retried on another upstream. */
  retries: number;
}

export interface DependencyStatus {
  status: HealthState;
  detail?: string;
}

export interface HealthMonitor {
  /** The live state of every upstream (never blocks on the network). */
  upstreams(): UpstreamStatus[];
  /** Probe every upstream now and return the fresh results. */
  refresh(): Promise<UpstreamStatus[]>;
  close(): void;
}

export interface HealthMonitorOptions {
  /** Probe period, ms. Default 2000. */
  intervalMs?: number;
  /** Limit for one probe, ms. Default 2000. */
  timeoutMs?: number;
  /** After each probe round (warm models are kept resident from here). */
  afterRound?: () => void;
}

/** What /health, metrics and /api/v1/agents show of one upstream, read from its live state. */
export function statusOf(m: Member): UpstreamStatus {
  const b = m.breaker;
  const p = m.probe;
  let status: HealthState;
  let error: string | undefined;
  if (b.state !== 'closed') {
    status = 'unhealthy';
    error = b.reason;
  } else if (p === undefined) {
    status = 'unhealthy';
    error = 'not probed yet';
  } else {
    status = b.failures > 0 ? 'degraded' : 'healthy';
    error = p.error;
  }
  return {
    id: m.id,
    kind: m.adapter.kind,
    url: m.adapter.baseUrl,
    status,
    latencyMs: p === undefined ? 0 : Math.round(p.latencyMs * 100) / 100,
    ...(p?.version ? { version: p.version } : {}),
    ...(error ? { error } : {}),
    checkedAt: new Date(p?.at ?? 0).toISOString(),
    slots: m.slots,
    weight: m.weight,
    outstanding: m.outstanding(),
    ...(m.adapter.config?.models ? { models: m.adapter.config.models } : {}),
    ...(m.loaded ? { loaded: m.loaded.map((l) => ({ name: l.name, expiresAt: l.expiresAt })) } : {}),
    breaker: {
      state: b.state,
      failures: b.failures,
      opened: b.opened,
      ...(b.state !== 'closed' ? { retryAt: new Date(b.retryAt).toISOString() } : {}),
      ...(b.reason ? { reason: b.reason } : {}),
    },
    retries: m.retries,
  };
}

/**
 * Probes every upstream in parallel on a timer (version, and loaded models where the protocol
 * can tell), and each open circuit again when its backoff ends (half-open). Probe outcomes feed
 * the circuit breakers that routing reads, so /health, /api/v1/agents and routing agree.
 */
export function createHealthMonitor(
  members: readonly Member[],
  opts: HealthMonitorOptions = {},
): HealthMonitor {
  const intervalMs = opts.intervalMs ?? 2000;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const closed = new AbortController();
  const recovery = new Map<Member, NodeJS.Timeout>();
  const probing = new Map<Member, Promise<void>>();
  let round: Promise<UpstreamStatus[]> | undefined;

  async function doProbe(m: Member): Promise<void> {
    const limit = deadline(closed.signal, timeoutMs);
    const [h, loaded] = await Promise.all([
      m.adapter.health(limit.signal),
      m.adapter.loadedModels?.(limit.signal).catch(() => undefined),
    ]).finally(() => limit.clear());
    if (closed.signal.aborted) return;
    // A probe cut by its own limit reads as "client closed": say what happened instead.
    const timedOut = !h.ok && limit.signal.aborted;
    m.probe = { ...h, ...(timedOut ? { error: `no answer within ${timeoutMs} ms` } : {}), at: Date.now() };
    if (loaded !== undefined || m.adapter.loadedModels === undefined) m.setLoaded(loaded);
    // A refused connection is certain; a slow or failing answer counts like a failed call (an
    // overloaded machine must not eject a working upstream on one late probe).
    const certain = !timedOut && (h.error?.startsWith('SUTAZAI_ERR_UPSTREAM_UNAVAILABLE') ?? false);
    if (h.ok) m.breaker.success();
    else m.breaker.failure(`probe failed: ${m.probe.error ?? 'no answer'}`, certain);
  }

  /** One probe per upstream at a time; an open circuit is probed only once its backoff ended. */
  function probe(m: Member): Promise<void> {
    const running = probing.get(m);
    if (running !== undefined) return running;
    if (m.breaker.state === 'open' && !m.breaker.tryProbe()) return Promise.resolve();
    const p = doProbe(m)
      .catch(() => undefined)
      .finally(() => probing.delete(m));
    probing.set(m, p);
    return p;
  }

  function onBreaker(m: Member, state: BreakerState): void {
    clearTimeout(recovery.get(m));
    recovery.delete(m);
    if (state !== 'open' || closed.signal.aborted) return;
    const t = setTimeout(
      () => {
        recovery.delete(m);
        void probe(m);
      },
      Math.max(0, m.breaker.retryAt - Date.now()),
    );
    t.unref();
    recovery.set(m, t);
  }
  for (const m of members) m.listener = onBreaker;

  function refresh(): Promise<UpstreamStatus[]> {
    round ??= Promise.all(members.map(probe)).then(() => {
      round = undefined;
      opts.afterRound?.();
      return members.map(statusOf);
    });
    return round;
  }

  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  void refresh();

  return {
    upstreams: () => members.map(statusOf),
    refresh,
    close() {
      closed.abort();
      clearInterval(timer);
      for (const t of recovery.values()) clearTimeout(t);
      recovery.clear();
      for (const m of members) m.listener = undefined;
    },
  };
}
