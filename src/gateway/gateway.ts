import type { FastifyBaseLogger as Logger } from 'fastify';
import { createResponseCache, type ResponseCache } from '../cache/service.js';
import type { Config } from '../config/config.js';
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
import { createModelCatalog, createUpstreams } from '../upstreams/registry.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
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
  health: HealthMonitor;
  system: SystemSampler;
  dependencies(): Promise<Record<string, DependencyStatus>>;
  features(): Record<string, boolean>;
  /** Response cache and request merging (its stage is in the pipeline). */
  cache: ResponseCache;
  /** Background tasks: submit, read, cancel. */
  tasks: TaskService;
  /** Metrics and alerts; absent when SUTAZAI_METRICS=false. buildApp() adds its request hooks. */
  metrics?: MetricsService;
  /** Ollama model management (pull, delete, ps, show, version) on the Ollama upstreams. */
  ollamaAdmin: OllamaAdmin;
  /** Refresh the model catalog now (after a pull or a delete). */
  refreshModels(): Promise<void>;
  /** Release everything, in reverse order of creation. */
  close(): Promise<void>;
}

export async function createGateway(config: Config, logger: Logger): Promise<Gateway> {
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
  const catalog = createModelCatalog({ adapters, refreshMs: config.modelRefreshMs });
  closers.push(() => catalog.close());

  // [model management] Ollama pull/delete/ps/show/version, forwarded (src/http/ollama/model-admin.ts)
  const ollamaAdmin = createOllamaAdmin(config.upstreams);
  closers.push(() => ollamaAdmin.close());

  const health = createHealthMonitor(adapters);
  closers.push(() => health.close());
  const system = createSystemSampler();
  closers.push(() => system.close());

  // [cache] response cache and merging
  const responseCache = createResponseCache({ config, logger });
  checks.cache = () => responseCache.health();
  features.cache = config.cacheMode !== 'off';
  features.request_merging = config.cacheMode !== 'off';
  closers.push(() => responseCache.close());
  // [tasks] task queue service and store
  const tasks = await createTaskFeature({ config, logger, pipeline: deferredPipeline(() => pipeline) });
  closers.push(() => tasks.close());
  checks.tasks = () => tasks.health();
  features.tasks = true;
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
    });
    metrics = m;
    closers.push(() => m.close());
    features.metrics = true;
  }

  const stages = buildStages({ config, cache: responseCache, metrics });
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
    health,
    system,
    cache: responseCache,
    tasks: tasks.service,
    ollamaAdmin,
    async refreshModels() {
      // A refresh already under way may have listed the models before the change: run one more.
      await catalog.refresh();
      await catalog.refresh();
    },
    ...(metrics ? { metrics } : {}),
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
