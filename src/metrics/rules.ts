import type { UpstreamStatus } from '../upstreams/health-monitor.js';
import type { AlertRule } from './alerts.js';
import { parseThreshold, THRESHOLD_NAMES } from '../config/alert-thresholds.js';

/** Everything the default rules read, gathered once per evaluation. */
export interface AlertInputs {
  hostCpuPercent: number;
  hostMemoryPercent: number;
  eventLoopLagP99Ms: number;
  /** Traffic over the alert window (monitoring polls excluded). */
  traffic: { windowS: number; count: number; errors: number; p95Ms: number | null };
  /** p95 time the gateway added to answered LLM requests (total − upstream), ms; null = too few. */
  addedLatencyP95Ms: number | null;
  /** p95 time to first token of answers that were not cache hits, ms; null = too few. */
  ttftP95Ms: number | null;
  upstreams: readonly UpstreamStatus[];
  /** p95 queue wait of recent background tasks, ms; undefined without a task queue. */
  queueWaitP95Ms?: number;
}

export interface RuleThresholds {
  warning?: number;
  critical?: number;
}

/** Thresholds per rule; a rule with neither level set never fires. */
export interface RuleSettings {
  cpuPercent: RuleThresholds;
  memoryPercent: RuleThresholds;
  /** Total latency: off by default, it grows with answer length (set it for a known model). */
  p95LatencyMs: RuleThresholds;
  addedLatencyMs: RuleThresholds;
  ttftMs: RuleThresholds;
  errorRatePercent: RuleThresholds;
  eventLoopLagMs: RuleThresholds;
  queueWaitMs: RuleThresholds;
  /** Fewer requests than this in the window → no latency/error-rate judgement. Default 5. */
  minRequests: number;
}

/**
 * Defaults alert on what the gateway controls: the latency it adds, time to first token, errors,
 * upstream health, event-loop lag, queue wait. Host CPU/memory and total latency are off: the
 * first belong to the machine (the model server shares it), the last to the answer's length.
 */
export const DEFAULT_RULE_SETTINGS: RuleSettings = {
  cpuPercent: {},
  memoryPercent: {},
  p95LatencyMs: {},
  // Generous for a gateway that adds ~1 ms: a busy 2-core host running model server, gateway and
  // load generator together showed p95 61 ms and loop lag 133 ms without anything being wrong.
  addedLatencyMs: { warning: 100, critical: 500 },
  ttftMs: { warning: 2000, critical: 10_000 },
  errorRatePercent: { warning: 1, critical: 5 },
  eventLoopLagMs: { warning: 200, critical: 1000 },
  queueWaitMs: { warning: 10_000, critical: 60_000 },
  minRequests: 5,
};

/** Never probed yet: no judgement (the monitor's first probe is still running). */
const probed = (u: UpstreamStatus) => Date.parse(u.checkedAt) > 0;

/** The rules with a threshold (a rule switched off is left out, and so not listed by /api/v1/alerts). */
export function defaultRules(s: RuleSettings = DEFAULT_RULE_SETTINGS): AlertRule<AlertInputs>[] {
  return allRules(s).filter((r) => r.warning !== undefined || r.critical !== undefined);
}

function allRules(s: RuleSettings): AlertRule<AlertInputs>[] {
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
      id: 'added_latency_p95',
      title: 'p95 latency added by the gateway',
      unit: 'ms',
      ...s.addedLatencyMs,
      read: (i) => [{ value: i.addedLatencyP95Ms }],
    },
    {
      id: 'ttft_p95',
      title: 'p95 time to first token',
      unit: 'ms',
      ...s.ttftMs,
      read: (i) => [{ value: i.ttftP95Ms }],
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

// Every settings name the thresholds setting accepts maps to a rule setting.
THRESHOLD_NAMES satisfies Record<string, keyof RuleSettings>;

/** Defaults with `name=warning/critical` overrides (`off` or an empty level = that level off). */
export function ruleSettings(overrides: readonly string[]): RuleSettings {
  const s: RuleSettings = { ...DEFAULT_RULE_SETTINGS };
  for (const item of overrides) {
    const { name, warning, critical } = parseThreshold(item);
    const t: RuleThresholds = {};
    if (warning !== undefined) t.warning = warning;
    if (critical !== undefined) t.critical = critical;
    s[THRESHOLD_NAMES[name]] = t;
  }
  return s;
}
