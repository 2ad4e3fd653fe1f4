import type { FastifyBaseLogger as Logger, FastifyPluginAsync } from 'fastify';
import { createResponseCache } from '../cache/service.js';
import type { Config } from '../config/config.js';
import { cacheRoutes } from '../http/cache/routes.js';
import { dashboardRoutes } from '../http/dashboard/routes.js';
import { metricsRoutes } from '../http/metrics/routes.js';
import { createMetricsService, type MetricsService } from '../metrics/service.js';
import { createTaskFeature, deferredPipeline } from '../queue/feature.js';
import { createPipeline, type Pipeline, type Stage } from '../pipeline/pipeline.js';
import { createModelCatalog, createUpstreams } from '../upstreams/registry.js';
import type { UpstreamAdapter } from '../upstreams/types.js';
import { createHealthMonitor, type DependencyStatus, type HealthMonitor } from './health.js';
import { createSystemSampler, type SystemSampler } from './system.js';

type Check = () => DependencyStatus | Promise<DependencyStatus>;

/**
 * Everything the HTTP app needs, built once from config. Each feature module adds its stage,
 * its health check, its routes and its closer here; buildApp() only wires routes.
 */
export interface Services {
  config: Config;
  logger: Logger;
  adapters: readonly UpstreamAdapter[];
  pipeline: Pipeline;
  health: HealthMonitor;
  system: SystemSampler;
  dependencies(): Promise<Record<string, DependencyStatus>>;
  features(): Record<string, boolean>;
  /** Extra route plugins contributed by feature modules (cache admin, tasks, metrics...). */
  plugins: Array<{ name: string; plugin: FastifyPluginAsync }>;
  /** Metrics and alerts; absent when SUTAZAI_METRICS=false. buildApp() adds its request hooks. */
  metrics?: MetricsService;
  /** Release everything, in reverse order of creation. */
  close(): Promise<void>;
}

export async function createServices(config: Config, logger: Logger): Promise<Services> {
  const closers: Array<() => Promise<void> | void> = [];
  const checks: Record<string, Check> = {};
  const features: Record<string, boolean> = {
    streaming: true,
    batch: true,
    openai_api: true,
    ollama_api: true,
  };
  const plugins: Services['plugins'] = [];
  const stages: Stage[] = [];

  const adapters = createUpstreams(config.upstreams);
  closers.push(async () => {
    await Promise.all(adapters.map((a) => a.close()));
  });
  const catalog = createModelCatalog({ adapters, refreshMs: config.modelRefreshMs });
  closers.push(() => catalog.close());

  const health = createHealthMonitor(adapters);
  closers.push(() => health.close());
  const system = createSystemSampler();
  closers.push(() => system.close());

  // [cache] response cache stage, checks, routes
  const responseCache = createResponseCache({ config, logger });
  stages.push(responseCache.stage);
  checks.cache = () => responseCache.health();
  features.cache = config.cacheMode !== 'off';
  features.request_merging = config.cacheMode !== 'off';
  plugins.push({ name: 'cache', plugin: (app) => cacheRoutes(app, { cache: responseCache }) });
  closers.push(() => responseCache.close());
  // [tasks] task queue service, checks, routes
  const tasks = await createTaskFeature({ config, logger, pipeline: deferredPipeline(() => pipeline) });
  closers.push(() => tasks.close());
  checks.tasks = () => tasks.health();
  features.tasks = true;
  plugins.push({ name: 'tasks', plugin: tasks.plugin });
  // [metrics] metrics registry, stage, routes
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
    // Outermost: sees every request as the client does; innermost: sees only real upstream calls.
    stages.unshift(m.stages.outer);
    stages.push(m.stages.inner);
    plugins.push({ name: 'metrics', plugin: metricsRoutes({ metrics: m }) });
    plugins.push({ name: 'dashboard', plugin: dashboardRoutes() });
    closers.push(() => m.close());
    features.metrics = true;
  }

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
    plugins,
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
