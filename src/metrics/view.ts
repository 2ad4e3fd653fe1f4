/**
 * The JSON shapes of GET /api/v1/metrics, its SSE stream and GET /api/v1/alerts. The dashboard and
 * `sutazai monitor` read only these (over HTTP); rates are fractions 0..1, times in ms.
 */
import type { ActiveAlert, AlertEvent } from './alerts.js';
import { quantile, round } from './sketch.js';
import type { RecentRequest, WindowSummary } from './windows.js';

export interface TrafficFigures {
  window_s: number;
  /** Seconds really covered (shorter than window_s right after start-up). */
  span_s: number;
  requests: number;
  rps: number;
  /** 5xx responses. */
  errors: number;
  error_rate: number | null;
  /** 4xx responses (499 = client went away). */
  client_errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
  max_ms: number | null;
  /** LLM generations/embeddings finished (any surface, background tasks included). */
  llm_requests: number;
  /** Completion tokens delivered per second (cache hits included). */
  tokens_per_s: number;
  cache: {
    hit_l1: number;
    hit_l2: number;
    miss: number;
    merged: number;
    bypass: number;
    /** hits / (hits + misses + merged); null without cacheable requests. */
    hit_rate: number | null;
  };
}

export interface RecentFigures {
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
}

export type WindowName = '10s' | '1m' | '5m' | '15m';
export const VIEW_WINDOWS: Record<WindowName, number> = { '10s': 10, '1m': 60, '5m': 300, '15m': 900 };

export interface SystemView {
  cpu_percent: number;
  host_cpu_percent: number;
  cores: number;
  load_average: number[];
  uptime_s: number;
  memory: {
    percent: number;
    rss_bytes: number;
    heap_used_bytes: number;
    host_total_bytes: number;
    available_mb: number;
    used_mb: number;
  };
  event_loop: { lag_p50_ms: number; lag_p99_ms: number; lag_max_ms: number; utilization: number };
}

export interface ProcessView {
  id: string;
  pid: number;
  host: string;
  uptime_s: number;
  cpu_percent: number;
  rss_bytes: number;
  event_loop_lag_p99_ms: number;
  /** ms since this process last published (0 = this process). */
  age_ms: number;
}

export interface UpstreamView {
  id: string;
  kind: string;
  url: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  probe_latency_ms: number;
  error?: string;
  checked_at: string;
  in_flight: number;
  pool: { connected: number; free: number; pending: number; running: number };
  /** Calls this process made to it in the last minute. */
  last_1m: { requests: number; errors: number; error_rate: number | null; p95_ms: number | null };
}

export interface MetricsView {
  timestamp: string;
  /** Worst active alert. */
  status: 'ok' | 'warning' | 'critical';
  /** cluster = traffic summed over every process publishing to Redis. */
  scope: 'process' | 'cluster';
  cluster_error?: string;
  processes: ProcessView[];
  system: SystemView;
  traffic: {
    /** Monitoring routes left out of these figures (they are in Prometheus). */
    excluded_routes: readonly string[];
    last_100: RecentFigures;
    windows: Record<WindowName, TrafficFigures>;
  };
  /** Polled from the cache service (null when there is none). */
  cache: Record<string, unknown> | null;
  /** Polled from the task queue (null when there is none). */
  queue: Record<string, unknown> | null;
  upstreams: UpstreamView[];
  alerts: { active: ActiveAlert[] };
}

export interface AlertsView {
  timestamp: string;
  status: MetricsView['status'];
  active: ActiveAlert[];
  /** Newest first. */
  history: AlertEvent[];
  rules: Array<{ id: string; title: string; unit: string; warning?: number; critical?: number }>;
  evaluation: { interval_ms: number; window_s: number; fire_after: number; clear_after: number };
}

const rate = (n: number, d: number) => (d > 0 ? round(n / d, 4) : null);

export function trafficFigures(s: WindowSummary): TrafficFigures {
  const [l1 = 0, l2 = 0, miss = 0, merged = 0, bypass = 0] = s.cache;
  const hits = l1 + l2;
  return {
    window_s: s.windowS,
    span_s: round(s.spanS, 1),
    requests: s.count,
    rps: round(s.count / s.spanS, 2),
    errors: s.errors,
    error_rate: rate(s.errors, s.count),
    client_errors: s.clientErrors,
    p50_ms: quantile(s.hist, s.count, 0.5, s.maxMs),
    p95_ms: quantile(s.hist, s.count, 0.95, s.maxMs),
    p99_ms: quantile(s.hist, s.count, 0.99, s.maxMs),
    mean_ms: s.count > 0 ? round(s.sumMs / s.count) : null,
    max_ms: s.count > 0 ? round(s.maxMs) : null,
    llm_requests: s.llm,
    tokens_per_s: round(s.tokens / s.spanS, 1),
    cache: { hit_l1: l1, hit_l2: l2, miss, merged, bypass, hit_rate: rate(hits, hits + miss + merged) },
  };
}

/** Exact percentiles over the last requests (nearest rank). */
export function recentFigures(recent: readonly RecentRequest[]): RecentFigures {
  const ms = recent.map((r) => r.ms).sort((a, b) => a - b);
  const errors = recent.filter((r) => r.error).length;
  const pick = (q: number) => (ms.length ? round(ms[Math.max(0, Math.ceil(q * ms.length) - 1)] ?? 0) : null);
  return {
    requests: ms.length,
    errors,
    error_rate: rate(errors, ms.length),
    p50_ms: pick(0.5),
    p95_ms: pick(0.95),
    p99_ms: pick(0.99),
    mean_ms: ms.length ? round(ms.reduce((a, b) => a + b, 0) / ms.length) : null,
  };
}
