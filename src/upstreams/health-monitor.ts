import type { UpstreamAdapter } from './types.js';

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
}

export interface DependencyStatus {
  status: HealthState;
  detail?: string;
}

export interface HealthMonitor {
  /** Latest probe results (never blocks on the network). */
  upstreams(): UpstreamStatus[];
  /** Probe every upstream now and return the fresh results. */
  refresh(): Promise<UpstreamStatus[]>;
  close(): void;
}

/** Probes every upstream on a timer; /health and metrics read the snapshot. */
export function createHealthMonitor(
  adapters: readonly UpstreamAdapter[],
  intervalMs = 5000,
  timeoutMs = 2000,
): HealthMonitor {
  let snapshot: UpstreamStatus[] = adapters.map((a) => ({
    id: a.id,
    kind: a.kind,
    url: a.baseUrl,
    status: 'unhealthy',
    latencyMs: 0,
    error: 'not probed yet',
    checkedAt: new Date(0).toISOString(),
  }));
  let inflight: Promise<UpstreamStatus[]> | undefined;

  async function probe(a: UpstreamAdapter): Promise<UpstreamStatus> {
    const base = { id: a.id, kind: a.kind, url: a.baseUrl, checkedAt: new Date().toISOString() };
    try {
      const h = await a.health(AbortSignal.timeout(timeoutMs));
      return {
        ...base,
        status: h.ok ? 'healthy' : 'unhealthy',
        latencyMs: Math.round(h.latencyMs * 100) / 100,
        ...(h.version ? { version: h.version } : {}),
        ...(h.error ? { error: h.error } : {}),
      };
    } catch (err) {
      return { ...base, status: 'unhealthy', latencyMs: 0, error: (err as Error).message };
    }
  }

  function refresh(): Promise<UpstreamStatus[]> {
    inflight ??= Promise.all(adapters.map(probe)).then((r) => {
      snapshot = r;
      inflight = undefined;
      return r;
    });
    return inflight;
  }

  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  void refresh();

  return {
    upstreams: () => snapshot,
    refresh,
    close: () => clearInterval(timer),
  };
}
