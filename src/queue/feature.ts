import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/config.js';
import { tasksRoutes } from '../http/tasks/routes.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { LazyStore } from '../store/lazy.js';
import { openStore } from '../store/store.js';
import { createTaskService, type TaskService } from './service.js';

export interface TaskFeature {
  service: TaskService;
  store: LazyStore;
  plugin: FastifyPluginAsync;
  /** For /health: degraded (never unhealthy) when Redis or the store does not answer. */
  health(): Promise<{ status: 'healthy' | 'degraded'; detail?: string }>;
  /** Start `config.taskConcurrency` consumers (0 = this process only accepts tasks). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A pipeline whose calls go to the one `get()` returns at call time, so the task service (and its
 * consumers) can be built before the pipeline, whose stages other features add, exists.
 * services.ts creates the pipeline after the [tasks] block: until then `get()` throws a
 * ReferenceError (temporal dead zone) and a consumer that already took a job waits for it here.
 */
export function deferredPipeline(get: () => Pipeline): Pipeline {
  const current = async (): Promise<Pipeline> => {
    for (;;) {
      try {
        return get();
      } catch (err) {
        if (!(err instanceof ReferenceError)) throw err;
      }
      await delay(5);
    }
  };
  return {
    generate: async (req, ctx) => (await current()).generate(req, ctx),
    embed: async (req, ctx) => (await current()).embed(req, ctx),
    listModels: async () => (await current()).listModels(),
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

/** Store + task service + routes, as services.ts wires them. */
export async function createTaskFeature(deps: {
  config: Config;
  logger: FastifyBaseLogger;
  pipeline: Pipeline;
}): Promise<TaskFeature> {
  const { config, logger } = deps;
  const store = await openStore({ config });
  let service: TaskService;
  try {
    service = await createTaskService({ config, logger, pipeline: deps.pipeline, store });
  } catch (err) {
    await store.close();
    throw err;
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
    plugin: tasksRoutes(service),
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
