import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import { databaseError, redisError } from '../errors/startup.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { LazyStore } from '../store/lazy.js';
import { checkDataDir } from '../store/data-dir.js';
import { openStore } from '../store/store.js';
import { createTaskService, type TaskService } from './service.js';

export interface TaskFeature {
  service: TaskService;
  store: LazyStore;
  /** For /health: degraded (never unhealthy) when Redis or the store does not answer. */
  health(): Promise<{ status: 'healthy' | 'degraded'; detail?: string }>;
  /** Start `config.taskConcurrency` consumers (0 = this process only accepts tasks). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A pipeline whose calls go to the one `get()` returns at call time, so the task service can be
 * built before the pipeline (whose stages other features add) exists. Consumers are started only
 * once it does (gateway/gateway.ts, `[tasks:start]`), so `get()` always has a pipeline to return.
 */
export function deferredPipeline(get: () => Pipeline): Pipeline {
  return {
    generate: (req, ctx) => get().generate(req, ctx),
    embed: (req, ctx) => get().embed(req, ctx),
    listModels: () => get().listModels(),
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

/** Store + task service, as gateway/gateway.ts wires them (routes: src/http/tasks/). */
export async function createTaskFeature(deps: {
  config: Config;
  logger: FastifyBaseLogger;
  pipeline: Pipeline;
}): Promise<TaskFeature> {
  const { config, logger } = deps;
  // Start-up failures name the setting behind them (src/errors/startup.ts).
  if (config.databaseUrl === undefined) await checkDataDir(config.dataDir);
  const store = await openStore({ config }).catch((err: unknown) => {
    throw databaseError(err, config.databaseUrl);
  });
  let service: TaskService;
  try {
    service = await createTaskService({ config, logger, pipeline: deps.pipeline, store });
  } catch (err) {
    await store.close();
    throw config.redisUrl ? redisError(err, config.redisUrl) : err;
  }
  logger.info(
    { engine: service.engine, store: store.driver, workers: config.taskConcurrency },
    service.engine === 'memory'
      ? 'background tasks: in-process queue (single process, not durable; set REDIS_URL for BullMQ)'
      : 'background tasks: BullMQ on Redis',
  );
  return {
    service,
    store,
    async health() {
      try {
        // An embedded store not opened yet is not opened just for a health probe.
        await within(
          Promise.all([store.opened ? store.ping() : undefined, service.stats()]),
          1000,
          'task queue/store',
        );
        return { status: 'healthy' };
      } catch (err) {
        return { status: 'degraded', detail: (err as Error).message };
      }
    },
    start: () => service.startWorkers(config.taskConcurrency),
    async close() {
      await service.close();
      await store.close();
    },
  };
}
