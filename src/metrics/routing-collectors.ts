import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthMonitor } from '../upstreams/health-monitor.js';

/*
 * Scrape-time metrics of routing (issue 20): each upstream's slots, circuit state, openings,
 * retries moved away from it, and loaded models. Read from the same live state as /health and
 * /api/v1/agents.
 */

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** A counter fed from a monotonic per-upstream value read at scrape time. */
function deltaCounter(
  registry: Registry,
  name: string,
  help: string,
  read: (health: HealthMonitor) => Array<[string, number]>,
  health: HealthMonitor,
): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      for (const [id, value] of read(health)) {
        const before = last.get(id) ?? 0;
        this.labels(id).inc(Math.max(0, value - before));
        last.set(id, value);
      }
    },
  });
}

export function registerRoutingCollectors(registry: Registry, health: HealthMonitor): void {
  const registers = [registry];
  new Gauge({
    name: 'sutazai_upstream_slots',
    help: 'Generations each upstream runs at once (configured slots).',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const u of health.upstreams()) this.labels(u.id).set(u.slots);
    },
  });
  new Gauge({
    name: 'sutazai_upstream_breaker_state',
    help: 'Circuit breaker of each upstream (one-hot over closed, open, half-open); open = ejected from routing.',
    labelNames: ['upstream', 'state'] as const,
    registers,
    collect() {
      for (const u of health.upstreams()) {
        for (const s of BREAKER_STATES) this.labels(u.id, s).set(u.breaker.state === s ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sutazai_upstream_loaded_models',
    help: 'Models each upstream holds in memory (Ollama /api/ps); absent when the upstream cannot tell.',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const u of health.upstreams()) if (u.loaded) this.labels(u.id).set(u.loaded.length);
    },
  });
  deltaCounter(
    registry,
    'sutazai_upstream_retries_total',
    'Calls that failed on an upstream before any byte reached the client and were retried on another.',
    (h) => h.upstreams().map((u) => [u.id, u.retries]),
    health,
  );
  deltaCounter(
    registry,
    'sutazai_upstream_breaker_opened_total',
    'Times the circuit of each upstream opened (upstream ejected).',
    (h) => h.upstreams().map((u) => [u.id, u.breaker.opened]),
    health,
  );
}
