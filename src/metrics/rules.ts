import type { UpstreamStatus } from '../upstreams/health-monitor.js';
import type { AlertRule } from './alerts.js';

/** Everything the default rules read, gathered once per evaluation. */
export interface AlertInputs {
  hostCpuPercent: number;
  hostMemoryPercent: number;
  eventLoopLagP99Ms: number;
  /** Traffic over the alert window (monitoring polls excluded). */
  traffic: { windowS: number; count: number; errors: number; p95Ms: number | null };
  upstreams: readonly UpstreamStatus[];
  /** p95 queue wait of recent background tasks, ms; undefined without a task queue. */
  queueWaitP95Ms?: number;
}

export interface RuleThresholds {
  warning?: number;
  critical?: number;
}

/** Defaults: the seed monitor's thresholds, plus event-loop lag and queue wait. */
export interface RuleSettings {
  cpuPercent: RuleThresholds;
  memoryPercent: RuleThresholds;
  p95LatencyMs: RuleThresholds;
  errorRatePercent: RuleThresholds;
  eventLoopLagMs: RuleThresholds;
  queueWaitMs: RuleThresholds;
  /** Fewer requests than this in the window → no latency/error-rate judgement. Default 5. */
  minRequests: number;
}

export const DEFAULT_RULE_SETTINGS: RuleSettings = {
  cpuPercent: { warning: 70, critical: 90 },
  memoryPercent: { warning: 80, critical: 90 },
  p95LatencyMs: { warning: 200, critical: 500 },
  errorRatePercent: { warning: 1, critical: 5 },
  eventLoopLagMs: { warning: 100, critical: 500 },
  queueWaitMs: { warning: 10_000, critical: 60_000 },
  minRequests: 5,
};

/** Never probed yet: no judgement (the monitor's first probe is still running). */
const probed = (u: UpstreamStatus) => Date.parse(u.checkedAt) > 0;

export function defaultRules(s: RuleSettings = DEFAULT_RULE_SETTINGS): AlertRule<AlertInputs>[] {
  const enough = (i: AlertInputs) => i.traffic.count >= s.minRequests;
  return [
    {
      id: 'upstream_down',
      title: 'upstream down',
      unit: '',
      // 1 = the last probe failed. Any upstream down is critical: requests to its models fail.
      critical: 0,
      message: (r, level) =>
        level === 'ok'
          ? `upstream ${r.subject ?? ''} is back`
          : `upstream ${r.subject ?? ''} is down${r.detail ? `: ${r.detail}` : ''}`,
      read: (i) =>
        i.upstreams.map((u) => ({
          subject: u.id,
          value: probed(u) ? (u.status === 'unhealthy' ? 1 : 0) : null,
          ...(u.error ? { detail: u.error } : {}),
        })),
    },
    {
      id: 'error_rate',
      title: 'error rate (5xx)',
      unit: '%',
      ...s.errorRatePercent,
      read: (i) => [
        {
          value: enough(i) ? (i.traffic.errors / i.traffic.count) * 100 : null,
          detail: `${i.traffic.errors}/${i.traffic.count} requests in ${i.traffic.windowS} s`,
        },
      ],
    },
    {
      id: 'latency_p95',
      title: 'p95 latency',
      unit: 'ms',
      ...s.p95LatencyMs,
      read: (i) => [{ value: enough(i) ? i.traffic.p95Ms : null }],
    },
    { id: 'cpu', title: 'host CPU', unit: '%', ...s.cpuPercent, read: (i) => [{ value: i.hostCpuPercent }] },
    {
      id: 'memory',
      title: 'host memory',
      unit: '%',
      ...s.memoryPercent,
      read: (i) => [{ value: i.hostMemoryPercent }],
    },
    {
      id: 'event_loop_lag',
      title: 'event-loop lag p99',
      unit: 'ms',
      ...s.eventLoopLagMs,
      read: (i) => [{ value: i.eventLoopLagP99Ms }],
    },
    {
      id: 'queue_wait',
      title: 'task queue wait p95',
      unit: 'ms',
      ...s.queueWaitMs,
      read: (i) => (i.queueWaitP95Ms === undefined ? [] : [{ value: i.queueWaitP95Ms }]),
    },
  ];
}
