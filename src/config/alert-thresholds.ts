/** `SUTAZAI_ALERT_THRESHOLDS` names → alert rule settings keys (src/metrics/rules.ts checks them). */
export const THRESHOLD_NAMES = {
  added_latency_ms: 'addedLatencyMs',
  ttft_ms: 'ttftMs',
  latency_ms: 'p95LatencyMs',
  error_rate_percent: 'errorRatePercent',
  queue_wait_ms: 'queueWaitMs',
  event_loop_lag_ms: 'eventLoopLagMs',
  host_cpu_percent: 'cpuPercent',
  host_memory_percent: 'memoryPercent',
} as const;

/** Parses `ttft_ms=3000/20000`, `latency_ms=/8000`, `host_cpu_percent=off`; throws naming the problem. */
export function parseThreshold(item: string): {
  name: keyof typeof THRESHOLD_NAMES;
  warning?: number;
  critical?: number;
} {
  const m = /^([a-z_]+)=(.*)$/.exec(item.trim());
  const name = m?.[1] ?? '';
  if (!m || !(name in THRESHOLD_NAMES))
    throw new Error(
      `"${item}": expected NAME=WARNING/CRITICAL with NAME one of ${Object.keys(THRESHOLD_NAMES).join(', ')}`,
    );
  const value = m[2] ?? '';
  if (value === 'off') return { name: name as keyof typeof THRESHOLD_NAMES };
  const [w = '', c = ''] = value.split('/');
  const num = (t: string) => {
    if (t === '' || t === 'off') return undefined;
    const n = Number(t);
    if (!Number.isFinite(n) || n < 0) throw new Error(`"${item}": "${t}" is not a number`);
    return n;
  };
  const warning = num(w);
  const critical = num(c);
  return {
    name: name as keyof typeof THRESHOLD_NAMES,
    ...(warning !== undefined ? { warning } : {}),
    ...(critical !== undefined ? { critical } : {}),
  };
}
