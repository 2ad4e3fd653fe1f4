import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AdmissionObserver, ModelAdmissionStats } from './controller.js';
import { LANES } from './lanes.js';

/** Distinct model label values before the rest are counted as "other" (model names come from clients). */
const MAX_MODELS = 100;

/**
 * Admission metrics: queue depth and slots in use per model and lane (read at scrape time), time
 * waited for a slot, and rejections by reason. Returns the observer the controller reports to.
 */
export function registerAdmissionMetrics(
  registry: Registry,
  stats: () => readonly ModelAdmissionStats[],
): AdmissionObserver {
  const registers = [registry];
  const seen = new Set<string>();
  const label = (model: string): string => {
    if (seen.has(model)) return model;
    if (seen.size >= MAX_MODELS) return 'other';
    seen.add(model);
    return model;
  };
  new Gauge({
    name: 'sutazai_admission_queue_depth',
    help: 'Requests waiting in the gateway for a slot of a model, by lane.',
    labelNames: ['model', 'lane'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of stats())
        for (const lane of LANES) this.labels(label(s.model), lane).inc(s.waiting[lane]);
    },
  });
  new Gauge({
    name: 'sutazai_admission_slots',
    help: 'Slots of a model this process schedules (total) and holds now (active).',
    labelNames: ['model', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of stats()) {
        this.labels(label(s.model), 'total').inc(s.slots);
        this.labels(label(s.model), 'active').inc(s.active);
      }
    },
  });
  new Gauge({
    name: 'sutazai_admission_service_seconds',
    help: 'Estimated service time of one generation per model (moving average), which Retry-After is computed from.',
    labelNames: ['model'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of stats()) this.labels(label(s.model)).set(s.serviceMs / 1000);
    },
  });
  const waits = new Histogram({
    name: 'sutazai_admission_wait_seconds',
    help: 'Time a request waited in the gateway for a slot before it started, by model and lane.',
    labelNames: ['model', 'lane'] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const rejections = new Counter({
    name: 'sutazai_admission_rejections_total',
    help: 'Requests answered 503 by admission control: queue_full, wait_bound (expected wait beyond the bound, at once) or timeout (waited the whole bound).',
    labelNames: ['model', 'lane', 'reason'] as const,
    registers,
  });
  return {
    granted: (model, lane, waitedMs) => waits.labels(label(model), lane).observe(waitedMs / 1000),
    rejected: (model, lane, reason) => rejections.labels(label(model), lane, reason).inc(),
  };
}
