import {
  AggregatorRegistry,
  type Aggregator,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

export type ProcessMetrics = Array<MetricObjectWithValues<MetricValue<string>>>;

/**
 * How a gauge combines over the worker processes of one server; counters, histograms and
 * every gauge not named here are summed (requests, CPU seconds, memory, L1 entries, in-flight).
 */
const GAUGE_AGGREGATORS: Record<string, Aggregator> = {
  process_start_time_seconds: 'min',
  sutazai_host_cpu_percent: 'max',
  sutazai_host_memory_percent: 'max',
  sutazai_event_loop_lag_seconds: 'max',
  sutazai_event_loop_utilization: 'average',
  sutazai_upstream_up: 'min',
  sutazai_upstream_health: 'max',
  sutazai_upstream_probe_latency_seconds: 'max',
  sutazai_cache_l2_status: 'max',
  sutazai_alerts_active: 'max',
};

/**
 * Values that describe state every worker sees the same (Redis keys, a shared queue): taken
 * from the first process only, not summed.
 */
function sharedValue(name: string, v: MetricValue<string>, sharedQueue: boolean): boolean {
  if (name === 'sutazai_cache_entries' || name === 'sutazai_cache_bytes') return v.labels.tier === 'l2';
  return sharedQueue && name.startsWith('sutazai_queue_') && name !== 'sutazai_queue_workers';
}

/** One Prometheus text over every process's `registry.getMetricsAsJSON()` (this one first). */
export async function mergeProcessMetrics(
  perProcess: readonly ProcessMetrics[],
  opts: { sharedQueue: boolean },
): Promise<string> {
  const arrays = perProcess.map((metrics, i) =>
    metrics.map((m) => ({
      ...m,
      aggregator: GAUGE_AGGREGATORS[m.name] ?? m.aggregator,
      values: i === 0 ? m.values : m.values.filter((v) => !sharedValue(m.name, v, opts.sharedQueue)),
    })),
  );
  return AggregatorRegistry.aggregate(arrays).metrics();
}
