import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthMonitor } from '../upstreams/health-monitor.js';
import type { SystemSampler } from './system.js';
import type { CacheStatsReport } from '../cache/service.js';
import type { StorePoolStats } from '../store/types.js';
import type { TaskStats } from '../queue/service.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
import type { ActiveAlert } from './alerts.js';
import { registerRoutingCollectors } from './routing-collectors.js';

/** What the scrape-time gauges read. Getters return the latest polled value (never block). */
export interface CollectorSources {
  system: SystemSampler;
  health: HealthMonitor;
  adapters: readonly UpstreamAdapter[];
  cache(): CacheStatsReport | undefined;
  queue(): TaskStats | undefined;
  store(): StorePoolStats | undefined;
  alerts(): readonly ActiveAlert[];
}

const HEALTH_STATES = ['healthy', 'degraded', 'unhealthy'] as const;

/** Gauges filled when Prometheus scrapes: system, upstream health and pools, cache, queue, alerts. */
export function registerCollectors(registry: Registry, src: CollectorSources): void {
  const registers = [registry];
  const startS = Math.round(Date.now() / 1000 - process.uptime());

  let lastCpuS = 0;
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent by this process, seconds.',
    registers,
    collect() {
      const u = process.cpuUsage();
      const s = (u.user + u.system) / 1e6;
      if (s > lastCpuS) this.inc(s - lastCpuS);
      lastCpuS = s;
    },
  });
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, seconds.',
    registers,
    collect() {
      this.set(startS);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size, bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use, bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'sutazai_process_cpu_percent',
    help: 'Process CPU over the last second, percent of one core.',
    registers,
    collect() {
      this.set(src.system.snapshot().cpuPercent);
    },
  });
  new Gauge({
    name: 'sutazai_host_cpu_percent',
    help: 'Host CPU busy over the last second, percent of all cores.',
    registers,
    collect() {
      this.set(src.system.snapshot().hostCpuPercent);
    },
  });
  new Gauge({
    name: 'sutazai_host_memory_percent',
    help: 'Host memory in use, percent.',
    registers,
    collect() {
      this.set(src.system.snapshot().memory.percent);
    },
  });
  new Gauge({
    name: 'sutazai_event_loop_lag_seconds',
    help: 'Event-loop delay over the last second, by quantile (p50, p99, max).',
    labelNames: ['quantile'] as const,
    registers,
    collect() {
      const el = src.system.snapshot().eventLoop;
      this.labels('0.5').set(el.lagP50Ms / 1000);
      this.labels('0.99').set(el.lagP99Ms / 1000);
      this.labels('1').set(el.lagMaxMs / 1000);
    },
  });
  new Gauge({
    name: 'sutazai_event_loop_utilization',
    help: 'Event-loop utilisation over the last second (0..1).',
    registers,
    collect() {
      this.set(src.system.snapshot().eventLoop.utilization);
    },
  });

  new Gauge({
    name: 'sutazai_upstream_up',
    help: 'Last health probe of each upstream: 1 healthy, 0 not.',
    labelNames: ['upstream', 'kind'] as const,
    registers,
    collect() {
      for (const u of src.health.upstreams()) this.labels(u.id, u.kind).set(u.status === 'healthy' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sutazai_upstream_health',
    help: 'Health state of each upstream (one-hot over healthy, degraded, unhealthy).',
    labelNames: ['upstream', 'state'] as const,
    registers,
    collect() {
      for (const u of src.health.upstreams()) {
        for (const s of HEALTH_STATES) this.labels(u.id, s).set(u.status === s ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sutazai_upstream_probe_latency_seconds',
    help: 'Latency of the last health probe of each upstream.',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const u of src.health.upstreams()) this.labels(u.id).set(u.latencyMs / 1000);
    },
  });
  new Gauge({
    name: 'sutazai_upstream_in_flight',
    help: 'Requests from this gateway open against each upstream (streams until they end).',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      for (const a of src.adapters) this.labels(a.id).set(a.inFlight?.() ?? a.poolStats().running);
    },
  });
  new Gauge({
    name: 'sutazai_upstream_pool_connections',
    help: 'Keep-alive pool of each upstream: connected, free, pending (queued requests), running.',
    labelNames: ['upstream', 'state'] as const,
    registers,
    collect() {
      for (const a of src.adapters) {
        const p = a.poolStats();
        this.labels(a.id, 'connected').set(p.connected);
        this.labels(a.id, 'free').set(p.free);
        this.labels(a.id, 'pending').set(p.pending);
        this.labels(a.id, 'running').set(p.running);
      }
    },
  });

  registerStateGauges(registry, src);
  registerRoutingCollectors(registry, src.health);
}

function registerStateGauges(registry: Registry, src: CollectorSources): void {
  const registers = [registry];
  new Gauge({
    name: 'sutazai_cache_entries',
    help: 'Response cache entries by tier (L2: keys under this gateway prefix; polled every few seconds).',
    labelNames: ['tier'] as const,
    registers,
    collect() {
      const c = src.cache();
      if (!c) return;
      this.labels('l1').set(c.l1.entries);
      if (c.l2.entries !== null) this.labels('l2').set(c.l2.entries);
    },
  });
  new Gauge({
    name: 'sutazai_cache_bytes',
    help: 'Response cache size by tier, bytes.',
    labelNames: ['tier'] as const,
    registers,
    collect() {
      const c = src.cache();
      if (!c) return;
      this.labels('l1').set(c.l1.bytes);
      if (c.l2.bytes !== null) this.labels('l2').set(c.l2.bytes);
    },
  });
  new Gauge({
    name: 'sutazai_cache_l2_status',
    help: 'Redis cache tier state (one-hot over healthy, degraded, disabled).',
    labelNames: ['status'] as const,
    registers,
    collect() {
      const c = src.cache();
      if (!c) return;
      for (const s of ['healthy', 'degraded', 'disabled'] as const)
        this.labels(s).set(c.l2.status === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sutazai_queue_jobs',
    help: 'Background tasks by state (waiting by priority band; BullMQ: queue-wide, memory engine: this process).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const q = src.queue();
      if (!q) return;
      this.labels('waiting_high').set(q.depth.high);
      this.labels('waiting_normal').set(q.depth.normal);
      this.labels('waiting_low').set(q.depth.low);
      this.labels('delayed').set(q.delayed);
      this.labels('active').set(q.active);
      this.labels('completed').set(q.completed);
      this.labels('failed').set(q.failed);
      this.labels('cancelled').set(q.cancelled);
    },
  });
  new Gauge({
    name: 'sutazai_queue_workers',
    help: 'Task consumers running in this process.',
    registers,
    collect() {
      const q = src.queue();
      if (q) this.set(q.workers);
    },
  });
  new Gauge({
    name: 'sutazai_queue_wait_seconds',
    help: 'Queue wait before the first attempt over recent tasks, by quantile.',
    labelNames: ['quantile'] as const,
    registers,
    collect() {
      const q = src.queue();
      if (!q) return;
      this.labels('0.5').set(q.waitMs.p50 / 1000);
      this.labels('0.95').set(q.waitMs.p95 / 1000);
    },
  });
  new Gauge({
    name: 'sutazai_store_pool_connections',
    help: 'SQL store pool: total, idle, waiting clients.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const p = src.store();
      if (!p) return;
      this.labels('total').set(p.total);
      this.labels('idle').set(p.idle);
      this.labels('waiting').set(p.waiting);
    },
  });
  new Gauge({
    name: 'sutazai_alerts_active',
    help: 'Active alerts by rule and severity.',
    labelNames: ['rule', 'severity'] as const,
    registers,
    collect() {
      this.reset();
      for (const a of src.alerts()) this.labels(a.rule, a.severity).inc();
    },
  });
}
