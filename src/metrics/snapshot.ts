import type { UpstreamStatus } from '../upstreams/health-monitor.js';
import type { SystemSnapshot } from './system.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
import type { ActiveAlert } from './alerts.js';
import { deserializeSummary, recentFromWire, type ProcessReport } from './cluster.js';
import { quantile, round } from './sketch.js';
import {
  recentFigures,
  trafficFigures,
  VIEW_WINDOWS,
  type MetricsView,
  type ProcessView,
  type SystemView,
  type TrafficFigures,
  type UpstreamView,
  type WindowName,
} from './view.js';
import { mergeSummary, type RecentRequest, type TrafficWindows, type WindowSummary } from './windows.js';

export interface ViewInputs {
  self: ProcessReport;
  /** Reports of the other live processes (cluster mode); undefined = this process only. */
  others?: ProcessReport[];
  clusterError?: string;
  windows: TrafficWindows;
  system: SystemSnapshot;
  excludedRoutes: readonly string[];
  upstreams: readonly UpstreamStatus[];
  adapters: readonly UpstreamAdapter[];
  upstreamWindows(id: string): TrafficWindows | undefined;
  cache: Record<string, unknown> | null;
  queue: Record<string, unknown> | null;
  alerts: ActiveAlert[];
}

/** Traffic summary over `windowS`, summed over the other processes' reports when given. */
export function mergedSummary(
  windowS: number,
  local: TrafficWindows,
  others: readonly ProcessReport[] | undefined,
): WindowSummary {
  const s = local.summary(windowS);
  for (const r of others ?? []) {
    const w = r.windows[String(windowS)];
    if (w) mergeSummary(s, deserializeSummary(w));
  }
  return s;
}

function systemView(s: SystemSnapshot): SystemView {
  const used = s.memory.hostTotalBytes - s.memory.hostFreeBytes;
  return {
    cpu_percent: s.cpuPercent,
    host_cpu_percent: s.hostCpuPercent,
    cores: s.cores,
    load_average: s.loadAverage,
    uptime_s: s.uptimeS,
    memory: {
      percent: s.memory.percent,
      rss_bytes: s.memory.rssBytes,
      heap_used_bytes: s.memory.heapUsedBytes,
      host_total_bytes: s.memory.hostTotalBytes,
      available_mb: Math.round(s.memory.hostFreeBytes / 1048576),
      used_mb: Math.round(used / 1048576),
    },
    event_loop: {
      lag_p50_ms: s.eventLoop.lagP50Ms,
      lag_p99_ms: s.eventLoop.lagP99Ms,
      lag_max_ms: s.eventLoop.lagMaxMs,
      utilization: s.eventLoop.utilization,
    },
  };
}

function processView(r: ProcessReport, now: number, self: boolean): ProcessView {
  return {
    id: r.id,
    pid: r.pid,
    host: r.host,
    uptime_s: r.uptime_s,
    cpu_percent: r.cpu_percent,
    rss_bytes: r.rss_bytes,
    event_loop_lag_p99_ms: r.event_loop_lag_p99_ms,
    age_ms: self ? 0 : Math.max(0, now - r.at),
  };
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return u;
  }
}

function upstreamView(u: UpstreamStatus, inp: ViewInputs): UpstreamView {
  const a = inp.adapters.find((x) => x.id === u.id);
  const pool = a?.poolStats() ?? { connected: 0, free: 0, pending: 0, running: 0 };
  const w = inp.upstreamWindows(u.id)?.summary(60);
  return {
    id: u.id,
    kind: u.kind,
    url: redactUrl(u.url),
    status: u.status,
    probe_latency_ms: u.latencyMs,
    ...(u.error ? { error: u.error } : {}),
    checked_at: u.checkedAt,
    in_flight: a?.inFlight?.() ?? pool.running,
    pool,
    last_1m: {
      requests: w?.count ?? 0,
      errors: w?.errors ?? 0,
      error_rate: w && w.count > 0 ? round(w.errors / w.count, 4) : null,
      p95_ms: w ? quantile(w.hist, w.count, 0.95, w.maxMs) : null,
    },
  };
}

/** The body of GET /api/v1/metrics. */
export function buildView(inp: ViewInputs): MetricsView {
  const now = Date.now();
  const windows = {} as Record<WindowName, TrafficFigures>;
  for (const [name, s] of Object.entries(VIEW_WINDOWS) as Array<[WindowName, number]>) {
    windows[name] = trafficFigures(mergedSummary(s, inp.windows, inp.others));
  }
  let recent: RecentRequest[] = inp.windows.recent();
  if (inp.others?.length) {
    recent = recent.concat(...inp.others.map((r) => recentFromWire(r.recent)));
    recent.sort((a, b) => a.at - b.at);
    recent = recent.slice(-100);
  }
  const worst = inp.alerts.some((a) => a.severity === 'critical')
    ? 'critical'
    : inp.alerts.length > 0
      ? 'warning'
      : 'ok';
  return {
    timestamp: new Date(now).toISOString(),
    status: worst,
    scope: inp.others !== undefined ? 'cluster' : 'process',
    ...(inp.clusterError !== undefined ? { cluster_error: inp.clusterError } : {}),
    processes: [
      processView(inp.self, now, true),
      ...(inp.others ?? []).map((r) => processView(r, now, false)),
    ],
    system: systemView(inp.system),
    traffic: { excluded_routes: inp.excludedRoutes, last_100: recentFigures(recent), windows },
    cache: inp.cache,
    queue: inp.queue,
    upstreams: inp.upstreams.map((u) => upstreamView(u, inp)),
    alerts: { active: inp.alerts },
  };
}
