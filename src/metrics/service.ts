import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import type { HealthMonitor } from '../upstreams/health-monitor.js';
import type { SystemSampler } from './system.js';
import type { CacheStatsReport } from '../cache/service.js';
import type { Config } from '../config/config.js';
import type { Stage } from '../pipeline/pipeline.js';
import type { ModelInfo } from '../pipeline/types.js';
import type { StorePoolStats } from '../store/types.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
import { createAlertEngine, type AlertEvent } from './alerts.js';
import {
  createClusterBus,
  recentToWire,
  serializeSummary,
  type ClusterBus,
  type ProcessReport,
} from './cluster.js';
import { registerCollectors } from './collectors.js';
import { createPromMetrics, type PromMetrics } from './event-metrics.js';
import { defaultRules, ruleSettings, type AlertInputs, type RuleSettings } from './rules.js';
import { buildView, mergedSummary } from './snapshot.js';
import { quantile } from './sketch.js';
import { createSources } from './sources.js';
import type { TaskStats } from '../queue/service.js';
import { createMetricsStages } from './stage.js';
import { VIEW_WINDOWS, type AlertsView, type MetricsView } from './view.js';
import {
  createTrafficWindows,
  MONITORING_ROUTES,
  type TrafficWindows,
  type WindowSummary,
} from './windows.js';
import { createWebhook } from './webhook.js';
import type { PeerLink } from './peers.js';
import { mergeProcessMetrics, type ProcessMetrics } from './prom-merge.js';

/** Stats of other feature modules; each optional (absent = that section reads null). */
export interface MetricsSources {
  cache?: () => Promise<CacheStatsReport>;
  queue?: () => Promise<TaskStats>;
  store?: () => StorePoolStats;
}

export interface MetricsDeps {
  config: Pick<
    Config,
    'alertIntervalMs' | 'alertWindowS' | 'alertWebhookUrl' | 'alertThresholds' | 'redisUrl' | 'cachePrefix'
  >;
  logger: FastifyBaseLogger;
  adapters: readonly UpstreamAdapter[];
  health: HealthMonitor;
  system: SystemSampler;
  /** Latest catalog listing (for the bounded model label). */
  models: () => readonly ModelInfo[];
  sources?: MetricsSources;
  /**
   * The other workers of this server (`serve --processes N`): Prometheus text, the JSON view and
   * its cache section then cover every worker (with REDIS_URL the view merges through Redis).
   */
  peers?: PeerLink;
  /** The cache section of the view when `peers` is set (summed over the workers). */
  serverCacheStats?: () => Promise<CacheStatsReport>;
  /** Tuning, mostly for tests. */
  options?: {
    rules?: RuleSettings;
    /** Defaults 2 and 3. */
    fireAfter?: number;
    clearAfter?: number;
    /** Cluster publish period (default 1000 ms) and report lifetime (default 5000 ms). */
    publishIntervalMs?: number;
    clusterTtlMs?: number;
  };
}

export interface MetricsService {
  readonly registry: Registry;
  /** Put `outer` first and `inner` last in the pipeline's stage list. */
  readonly stages: { outer: Stage; inner: Stage };
  /** What the HTTP edge's request counter records into (src/http/metrics/instrument.ts). */
  readonly requests: { prom: PromMetrics; windows: TrafficWindows; addedWindows: TrafficWindows };
  /** Wire stats of modules created after this service. */
  addSources(s: MetricsSources): void;
  /** Prometheus text format; collected at most once a second. */
  prometheus(): Promise<string>;
  view(scope?: 'auto' | 'process'): Promise<MetricsView>;
  alerts(): AlertsView;
  /** Evaluate the alert rules now (the timer does this every alertIntervalMs). */
  evaluateAlerts(): Promise<AlertEvent[]>;
  /** Receive the serialised view about once a second while subscribed (SSE). */
  subscribe(fn: (json: string) => void): () => void;
  close(): Promise<void>;
}

const VIEW_TTL_MS = 500;
const SCRAPE_TTL_MS = 1000;

/** p95 of a window, or null with fewer than `min` samples (too few to judge). */
function p95Of(s: WindowSummary, min: number): number | null {
  return s.count >= min ? quantile(s.hist, s.count, 0.95, s.maxMs) : null;
}

export function createMetricsService(deps: MetricsDeps): MetricsService {
  const { config, logger, adapters, health, system } = deps;
  const opts = deps.options ?? {};
  const registry = new Registry();
  const prom = createPromMetrics(registry);
  const windows = createTrafficWindows({ maxWindowS: 900 });
  // What the gateway controls, for the alert rules: latency it adds, and first token of non-hits.
  const alertWindowS = Math.max(config.alertWindowS, 1);
  const added = createTrafficWindows({ maxWindowS: alertWindowS, recentSize: 1 });
  const ttft = createTrafficWindows({ maxWindowS: alertWindowS, recentSize: 1 });
  const upstreamWindows = new Map<string, TrafficWindows>(
    adapters.map((a) => [a.id, createTrafficWindows({ maxWindowS: 60, recentSize: 1 })]),
  );
  const sources = createSources(logger);
  if (deps.sources) sources.add(deps.sources);
  const processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const publishedWindows = [...new Set([...Object.values(VIEW_WINDOWS), config.alertWindowS])];

  let modelsRef: readonly ModelInfo[] | undefined;
  let modelNames = new Map<string, string>();
  function modelLabel(model: string): string {
    const list = deps.models();
    if (list !== modelsRef) {
      modelsRef = list;
      modelNames = new Map();
      for (const m of list) {
        modelNames.set(m.name, m.name);
        if (m.name.endsWith(':latest')) modelNames.set(m.name.slice(0, -7), m.name);
        else if (!m.name.includes(':')) modelNames.set(`${m.name}:latest`, m.name);
      }
    }
    return modelNames.get(model) ?? 'other';
  }

  const stages = createMetricsStages({
    prom,
    windows,
    upstreamWindows: (id) => upstreamWindows.get(id),
    modelLabel,
    ttftWindows: ttft,
  });

  const settings = opts.rules ?? ruleSettings(config.alertThresholds);
  const rules = defaultRules(settings);
  const webhook = config.alertWebhookUrl
    ? createWebhook(config.alertWebhookUrl, processId, logger)
    : undefined;
  const engine = createAlertEngine<AlertInputs>({
    rules,
    fireAfter: opts.fireAfter ?? 2,
    clearAfter: opts.clearAfter ?? 3,
    onEvent(e) {
      const line = { alert: e.key, kind: e.kind, from: e.from, to: e.to, value: e.value };
      if (e.to === 'critical') logger.error(line, `alert ${e.kind}: ${e.message}`);
      else if (e.to === 'warning') logger.warn(line, `alert ${e.kind}: ${e.message}`);
      else logger.info(line, `alert resolved: ${e.message}`);
      webhook?.send(e);
    },
  });

  registerCollectors(registry, {
    system,
    health,
    adapters,
    cache: () => sources.cache(),
    queue: () => sources.queue(),
    store: () => sources.store(),
    alerts: () => engine.active(),
  });

  const bus: ClusterBus | undefined = config.redisUrl
    ? createClusterBus({
        redisUrl: config.redisUrl,
        prefix: config.cachePrefix,
        ...(opts.clusterTtlMs !== undefined ? { ttlMs: opts.clusterTtlMs } : {}),
      })
    : undefined;

  /** This process's report; the window summaries are only computed for publishing. */
  function selfReport(withWindows: boolean): ProcessReport {
    const s = system.snapshot();
    const w: ProcessReport['windows'] = {};
    if (withWindows)
      for (const sec of publishedWindows) w[String(sec)] = serializeSummary(windows.summary(sec));
    return {
      v: 1,
      id: processId,
      pid: process.pid,
      host: os.hostname(),
      at: Date.now(),
      uptime_s: s.uptimeS,
      cpu_percent: s.cpuPercent,
      rss_bytes: s.memory.rssBytes,
      event_loop_lag_p99_ms: s.eventLoop.lagP99Ms,
      windows: w,
      recent: withWindows ? recentToWire(windows.recent()) : [],
    };
  }

  /** The other processes' reports (cluster mode), read at most every VIEW_TTL_MS. */
  let peers: { at: number; p: Promise<{ others?: ProcessReport[]; error?: string }> } | undefined;
  function readPeers(): Promise<{ others?: ProcessReport[]; error?: string }> {
    const link = deps.peers;
    if (!bus && !link) return Promise.resolve({});
    const now = Date.now();
    if (peers && now - peers.at < VIEW_TTL_MS) return peers.p;
    const p = bus
      ? bus.read().then(
          (all) => ({ others: all.filter((r) => r.id !== processId) }),
          (err: unknown) => ({ error: `redis: ${(err as Error).message}` }),
        )
      : link!.collect('metrics:report').then((all) => ({
          others: all.filter((r): r is ProcessReport => (r as ProcessReport | null)?.v === 1),
        }));
    peers = { at: now, p };
    return p;
  }

  let viewCache: { at: number; scope: string; p: Promise<MetricsView> } | undefined;
  function view(scope: 'auto' | 'process' = 'auto'): Promise<MetricsView> {
    const now = Date.now();
    if (viewCache && viewCache.scope === scope && now - viewCache.at < VIEW_TTL_MS) return viewCache.p;
    const p = makeView(scope);
    viewCache = { at: now, scope, p };
    return p;
  }
  async function makeView(scope: 'auto' | 'process'): Promise<MetricsView> {
    const { others, error } = scope === 'process' ? {} : await readPeers();
    const serverCache =
      scope !== 'process' && deps.peers && deps.serverCacheStats
        ? await deps.serverCacheStats().then(
            (c): Record<string, unknown> => ({ ...c }),
            () => sources.cacheView(),
          )
        : sources.cacheView();
    return buildView({
      self: selfReport(false),
      ...(others !== undefined ? { others } : {}),
      ...(error !== undefined ? { clusterError: error } : {}),
      windows,
      system: system.snapshot(),
      excludedRoutes: MONITORING_ROUTES,
      upstreams: health.upstreams(),
      adapters,
      upstreamWindows: (id) => upstreamWindows.get(id),
      cache: serverCache,
      queue: sources.queueView(),
      alerts: engine.active(),
    });
  }

  async function evaluateAlerts(): Promise<AlertEvent[]> {
    const { others } = await readPeers();
    const s = mergedSummary(config.alertWindowS, windows, others);
    const sys = system.snapshot();
    const q = sources.queue();
    return engine.evaluate({
      hostCpuPercent: sys.hostCpuPercent,
      hostMemoryPercent: sys.memory.percent,
      eventLoopLagP99Ms: sys.eventLoop.lagP99Ms,
      traffic: {
        windowS: config.alertWindowS,
        count: s.count,
        errors: s.errors,
        p95Ms: quantile(s.hist, s.count, 0.95, s.maxMs),
      },
      addedLatencyP95Ms: p95Of(added.summary(alertWindowS), settings.minRequests),
      ttftP95Ms: p95Of(ttft.summary(alertWindowS), settings.minRequests),
      upstreams: health.upstreams(),
      ...(q ? { queueWaitP95Ms: q.waitMs.p95 } : {}),
    });
  }

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown>) => {
    const t = setInterval(() => {
      fn().catch((err: unknown) => logger.warn({ err }, 'metrics background job failed'));
    }, ms);
    t.unref();
    timers.push(t);
  };
  every(config.alertIntervalMs, evaluateAlerts);
  if (bus) every(opts.publishIntervalMs ?? 1000, () => bus.publish(selfReport(true)).catch(() => undefined));

  if (deps.peers) {
    deps.peers.serve('metrics:report', () => selfReport(true));
    deps.peers.serve('metrics:prom', () => registry.getMetricsAsJSON());
  }
  /** Prometheus text of this process, or of every worker of the server when it has peers. */
  async function collectText(): Promise<string> {
    if (!deps.peers) return registry.metrics();
    const [own, others] = await Promise.all([
      registry.getMetricsAsJSON(),
      deps.peers.collect('metrics:prom'),
    ]);
    return mergeProcessMetrics([own, ...(others as ProcessMetrics[])], { sharedQueue: !!config.redisUrl });
  }

  const subscribers = new Set<(json: string) => void>();
  let ticker: NodeJS.Timeout | undefined;
  let scrape: { at: number; p: Promise<string> } | undefined;

  return {
    registry,
    stages,
    requests: { prom, windows, addedWindows: added },
    addSources: (s) => sources.add(s),
    prometheus() {
      const now = Date.now();
      if (scrape && now - scrape.at < SCRAPE_TTL_MS) return scrape.p;
      const p = collectText();
      scrape = { at: now, p };
      p.catch(() => {
        if (scrape?.p === p) scrape = undefined;
      });
      return p;
    },
    view,
    alerts() {
      const active = engine.active();
      return {
        timestamp: new Date().toISOString(),
        status: active.some((a) => a.severity === 'critical') ? 'critical' : active.length ? 'warning' : 'ok',
        active,
        history: engine.history(),
        rules: rules.map((r) => ({
          id: r.id,
          title: r.title,
          unit: r.unit,
          ...(r.warning !== undefined ? { warning: r.warning } : {}),
          ...(r.critical !== undefined ? { critical: r.critical } : {}),
        })),
        evaluation: {
          interval_ms: config.alertIntervalMs,
          window_s: config.alertWindowS,
          fire_after: opts.fireAfter ?? 2,
          clear_after: opts.clearAfter ?? 3,
        },
      };
    },
    evaluateAlerts,
    subscribe(fn) {
      subscribers.add(fn);
      ticker ??= setInterval(() => {
        view().then(
          (v) => {
            const json = JSON.stringify(v);
            for (const s of subscribers) s(json);
          },
          (err: unknown) => logger.warn({ err }, 'metrics view failed'),
        );
      }, 1000);
      return () => {
        subscribers.delete(fn);
        if (subscribers.size === 0 && ticker) {
          clearInterval(ticker);
          ticker = undefined;
        }
      };
    },
    async close() {
      for (const t of timers) clearInterval(t);
      if (ticker) clearInterval(ticker);
      subscribers.clear();
      sources.close();
      await webhook?.idle();
      await bus?.close(processId);
    },
  };
}
