import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Admission } from '../admission/controller.js';
import { createAdmissionFromConfig } from '../admission/feature.js';
import { registerAdmissionMetrics } from '../admission/metrics.js';
import {
  createResponseCache,
  type CacheStatsReport,
  type ClearResult,
  type ResponseCache,
} from '../cache/service.js';
import { mergeCacheStats } from '../cache/stats-merge.js';
import type { Config } from '../config/config.js';
import type { PeerLink } from '../metrics/peers.js';
import { createMetricsService, type MetricsService } from '../metrics/service.js';
import { createSystemSampler, type SystemSampler } from '../metrics/system.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { createTaskFeature, deferredPipeline } from '../queue/feature.js';
import type { TaskService } from '../queue/service.js';
import {
  createHealthMonitor,
  type DependencyStatus,
  type HealthMonitor,
} from '../upstreams/health-monitor.js';
import { createMembers } from '../upstreams/members.js';
import { createModelCatalog, createUpstreams, type ModelCatalog } from '../upstreams/registry.js';
import { createWarmKeeper } from '../upstreams/warm.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
import type { UsageRepository } from '../store/usage.js';
import { decideAuth, type AuthDecision } from '../auth/mode.js';
import { connectKeyInvalidation } from '../auth/invalidation.js';
import { createKeyService, type KeyService } from '../auth/service.js';
import { createMemoryLimiter } from '../limits/memory-limiter.js';
import { createRedisLimiter } from '../limits/redis-limiter.js';
import type { Limiter } from '../limits/types.js';
import { Counter } from 'prom-client';
import { createUsageRecorder, type UsageRecorder } from '../usage/recorder.js';
import { createOllamaAdmin, type OllamaAdmin } from '../upstreams/ollama/manage.js';
import { buildStages } from './stages.js';

type Check = () => DependencyStatus | Promise<DependencyStatus>;

/**
 * The composition root: every service built once from config and wired together. Each feature
 * adds its service, health check and closer here and its stage to stages.ts; the HTTP edge
 * (src/http/routes.ts) registers the route groups that use them.
 */
export interface Gateway {
  config: Config;
  logger: Logger;
  adapters: readonly UpstreamAdapter[];
  pipeline: Pipeline;
  /** Model → upstream routing (capacity, failover); the pipeline's ModelRouter. */
  router: ModelCatalog;
  health: HealthMonitor;
  system: SystemSampler;
  dependencies(): Promise<Record<string, DependencyStatus>>;
  features(): Record<string, boolean>;
  /** Response cache and request merging (its stage is in the pipeline). */
  cache: ResponseCache;
  /** Background tasks: submit, read, cancel. */
  tasks: TaskService;
  /** API keys: lookups (cached), admin operations. */
  keys: KeyService;
  /** Whether requests need a key (SUTAZAI_AUTH and the address, see src/auth/mode.ts). */
  auth: AuthDecision;
  /** The usage log's writer; absent when SUTAZAI_USAGE_LOG is off. */
  usage?: UsageRecorder;
  /** The SQL store's usage table (aggregates for GET /api/v1/usage). */
  usageRepo: UsageRepository;
  /** Metrics and alerts; absent when SUTAZAI_METRICS=false. buildApp() adds its request hooks. */
  metrics?: MetricsService;
  /** The per-model wait queue (its stage follows the cache). */
  admission: Admission;
  /** Ollama model management (pull, delete, ps, show, version) on the Ollama upstreams. */
  ollamaAdmin: OllamaAdmin;
  /** Refresh the model catalog now (after a pull or a delete). */
  refreshModels(): Promise<void>;
  /** Release everything, in reverse order of creation. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The other worker processes of this server (`serve --processes N`); stats cover them all. */
  peers?: PeerLink;
}

export async function createGateway(
  config: Config,
  logger: Logger,
  opts: GatewayOptions = {},
): Promise<Gateway> {
  const closers: Array<() => Promise<void> | void> = [];
  const checks: Record<string, Check> = {};
  const features: Record<string, boolean> = {
    streaming: true,
    batch: true,
    openai_api: true,
    ollama_api: true,
  };

  const adapters = createUpstreams(config.upstreams);
  closers.push(async () => {
    await Promise.all(adapters.map((a) => a.close()));
  });
  // [routing] live upstream state shared by routing, health probes, warm models and /api/v1/agents
  const members = createMembers(adapters, config);
  const catalog = createModelCatalog({
    members,
    refreshMs: config.modelRefreshMs,
    retries: config.upstreamRetries,
  });
  closers.push(() => catalog.close());

  // [model management] Ollama pull/delete/ps/show/version, forwarded (src/http/ollama/model-admin.ts)
  const ollamaAdmin = createOllamaAdmin(config.upstreams);
  closers.push(() => ollamaAdmin.close());

  const warm = createWarmKeeper(members, (upstream, model, err) =>
    logger.warn({ err, upstream, model }, 'could not preload a warm model'),
  );
  closers.push(() => warm.close());
  const health = createHealthMonitor(members, {
    intervalMs: config.healthIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    afterRound: () => warm.check(),
  });
  closers.push(() => health.close());
  void catalog.list().then(() => warm.check());
  const system = createSystemSampler();
  closers.push(() => system.close());

  // [cache] response cache and merging
  const responseCache = createResponseCache({ config, logger });
  checks.cache = () => responseCache.health();
  features.cache = config.cacheMode !== 'off';
  features.request_merging = config.cacheMode !== 'off';
  closers.push(() => responseCache.close());
  // [perf] with worker processes, /api/v1/cache/stats sums every worker's cache (L1 is per process)
  const { peers } = opts;
  const serverCacheStats = async (): Promise<CacheStatsReport> => {
    const own = await responseCache.stats();
    if (!peers) return own;
    const others = (await peers.collect('cache:stats')) as CacheStatsReport[];
    return mergeCacheStats([own, ...others]);
  };
  peers?.serve('cache:stats', () => responseCache.stats());
  peers?.serve('cache:clear', (pattern) =>
    responseCache.clear(typeof pattern === 'string' ? pattern : undefined),
  );
  const cache: ResponseCache = peers
    ? {
        ...responseCache,
        stats: serverCacheStats,
        // Every worker's L1 is cleared too (each holds its own), then the counts are summed.
        async clear(pattern) {
          const own = await responseCache.clear(pattern);
          const others = (await peers.collect('cache:clear', pattern)) as ClearResult[];
          return others.reduce(
            (a, r) => ({
              deleted: a.deleted + r.deleted,
              tiers: {
                l1: a.tiers.l1 + r.tiers.l1,
                l2: a.tiers.l2 === null ? r.tiers.l2 : a.tiers.l2 + (r.tiers.l2 ?? 0),
              },
            }),
            own,
          );
        },
      }
    : responseCache;
  // [tasks] task queue service and store
  const tasks = await createTaskFeature({ config, logger, pipeline: deferredPipeline(() => pipeline) });
  closers.push(() => tasks.close());
  checks.tasks = () => tasks.health();
  features.tasks = true;
  // [keys] API keys: who may call (the HTTP hook is in src/http/auth/)
  const auth = decideAuth({ setting: config.authMode, host: config.host, adminKey: !!config.adminKey });
  for (const n of auth.notices) logger[n.level](n.msg);
  features.api_keys = auth.required;
  const keys = createKeyService({
    repo: tasks.store.keys,
    adminKey: config.adminKey,
    cacheMs: config.keyCacheMs,
    logger,
  });
  if (config.redisUrl) {
    const channel = connectKeyInvalidation(keys, { redisUrl: config.redisUrl, logger });
    closers.push(() => channel.close());
  }
  // [limits] per-key rate limits, shared through Redis when there is one
  let limiter: Limiter | undefined;
  if (auth.required) {
    const l = config.redisUrl
      ? createRedisLimiter({
          redisUrl: config.redisUrl,
          prefix: config.cachePrefix,
          timeoutMs: Math.max(config.redisTimeoutMs, 200),
          logger,
        })
      : createMemoryLimiter();
    limiter = l;
    closers.push(() => l.close());
  }
  if (auth.required) {
    // Keys and usage live in the store: /health names it when it does not answer.
    const store = tasks.store;
    checks.store = async () => {
      if (!store.opened) return { status: 'healthy', detail: 'embedded store not opened yet' };
      try {
        await Promise.race([
          store.ping(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('no answer in 1000 ms')), 1000).unref(),
          ),
        ]);
        return { status: 'healthy' };
      } catch (err) {
        return {
          status: 'degraded',
          detail: `store unreachable: ${(err as Error).message}; cached keys keep working`,
        };
      }
    };
  }
  // [usage] one row per LLM request, written in batches off the request path
  let usage: UsageRecorder | undefined;
  if (config.usageLog === 'on' || (config.usageLog === 'auto' && auth.required)) {
    const u = createUsageRecorder({
      repo: tasks.store.usage,
      logger,
      flushMs: config.usageFlushMs,
      maxBuffered: config.usageBufferRows,
    });
    usage = u;
    closers.push(() => u.close());
    features.usage_log = true;
    checks.usage = () => {
      const s = u.stats();
      return s.failing === undefined && s.dropped === 0
        ? { status: 'healthy' }
        : {
            status: 'degraded',
            detail: `store ${s.failing ? `unreachable (${s.failing})` : 'reachable'}; ${s.buffered} rows buffered, ${s.dropped} dropped`,
          };
    };
  }
  // [metrics] metrics registry, stages, alerts
  let metrics: MetricsService | undefined;
  if (config.metricsEnabled) {
    const m = createMetricsService({
      config,
      logger,
      adapters,
      health,
      system,
      models: () => catalog.snapshot(),
      sources: {
        cache: () => responseCache.stats(),
        queue: () => tasks.service.stats(),
        store: () => tasks.store.poolStats(),
      },
      ...(peers ? { peers, serverCacheStats } : {}),
    });
    metrics = m;
    closers.push(() => m.close());
    if (usage) {
      const u = usage;
      new Counter({
        name: 'sutazai_usage_rows_dropped_total',
        help: 'Usage-log rows dropped because the buffer was full while the store was unreachable.',
        registers: [m.registry],
        collect() {
          this.reset();
          this.inc(u.stats().dropped);
        },
      });
    }
    features.metrics = true;
  }

  // [admission] the gateway's wait queue per model (docs/admission.md)
  const observer = metrics ? registerAdmissionMetrics(metrics.registry, () => admission.stats()) : undefined;
  const admission = createAdmissionFromConfig(config, catalog, observer);

  const stages = buildStages({ config, cache: responseCache, metrics, limiter, usage, admission });
  const pipeline = createPipeline({ router: catalog, stages });
  const closeAll = async () => {
    for (const c of [...closers].reverse()) {
      try {
        await c();
      } catch (err) {
        logger.warn({ err }, 'error while closing a service');
      }
    }
  };
  // [tasks:start] consumers start once the pipeline they run exists
  try {
    await tasks.start();
  } catch (err) {
    await closeAll();
    throw err;
  }

  return {
    config,
    logger,
    adapters,
    pipeline,
    router: catalog,
    health,
    system,
    cache,
    tasks: tasks.service,
    keys,
    auth,
    ...(usage ? { usage } : {}),
    usageRepo: tasks.store.usage,
    ollamaAdmin,
    async refreshModels() {
      // A refresh already under way may have listed the models before the change: run one more.
      await catalog.refresh();
      await catalog.refresh();
    },
    ...(metrics ? { metrics } : {}),
    admission,
    features: () => features,
    async dependencies() {
      // Checks run side by side: /health waits for the slowest one, not for their sum.
      const entries = await Promise.all(
        Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyStatus]> => {
          try {
            return [name, await check()];
          } catch (err) {
            return [name, { status: 'unhealthy', detail: (err as Error).message }];
          }
        }),
      );
      return Object.fromEntries(entries);
    },
    close: closeAll,
  };
}
