import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { FieldName } from '../../src/config/fields.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { createTaskService, type TaskService, type TaskServiceDeps } from '../../src/queue/service.js';
import { startSimulator, type SimStartOptions } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { createStore, dropSchema, type Store } from '../../src/store/index.js';
import { createModelCatalog, createUpstreams } from '../../src/upstreams/registry.js';

import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.js';

export { TEST_DATABASE_URL, TEST_REDIS_URL };

let seq = 0;
/** A name unique to this test process and call, usable as PG schema, Redis prefix or queue name. */
export function uniqueName(tag: string): string {
  return `t_${tag}_${process.pid}_${Date.now().toString(36)}_${seq++}`;
}

export type EngineKind = 'memory' | 'bullmq';

export interface RigOptions {
  engine: EngineKind;
  sim?: SimStartOptions;
  config?: Partial<Record<FieldName, unknown>>;
  /** Start this many consumers at once (default 2; 0 = call rig.service.startWorkers yourself). */
  workers?: number;
  tuning?: TaskServiceDeps['engine'];
  /** Share queue name / prefix / schema with another rig (multi-process style tests). */
  names?: RigNames;
  redisUrl?: string;
}

export interface RigNames {
  schema: string;
  prefix: string;
  queueName: string;
}

export interface Rig {
  sim: SimHandle;
  config: Config;
  store: Store;
  service: TaskService;
  names: RigNames;
  /** Prompts (or last chat message) in the order they reached the pipeline. */
  calls: string[];
  /** A second task service on the same queue and store (another "process"). */
  peer(workers: number): Promise<TaskService>;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: 'silent' });

export function rigConfig(sim: SimHandle, opts: RigOptions, names: RigNames): Config {
  return loadConfig({
    env: {},
    overrides: {
      upstreams: [`ollama=${sim.url}`],
      defaultModel: 'llama3.2',
      databaseUrl: `${TEST_DATABASE_URL}?schema=${names.schema}`,
      ...(opts.engine === 'bullmq' ? { redisUrl: opts.redisUrl ?? TEST_REDIS_URL } : {}),
      taskBackoffMs: 20,
      shutdownGraceMs: 2000,
      logLevel: 'silent',
      ...opts.config,
    },
  });
}

/** Simulator + real pipeline + PostgreSQL store in its own schema + task service. */
export async function startRig(opts: RigOptions): Promise<Rig> {
  const names = opts.names ?? { schema: uniqueName('q'), prefix: uniqueName('p'), queueName: 'tasks' };
  const sim = await startSimulator({ models: ['llama3.2'], embedModels: ['nomic-embed-text'], ...opts.sim });
  const config = rigConfig(sim, opts, names);
  const adapters = createUpstreams(config.upstreams);
  const catalog = createModelCatalog({ adapters, refreshMs: 60_000 });
  const calls: string[] = [];
  const inner = createPipeline({ router: catalog, stages: [] });
  // Records the order in which tasks reach the pipeline (priority tests).
  const pipeline: Pipeline = {
    generate(req, ctx) {
      calls.push(req.kind === 'generate' ? req.prompt : (req.messages.at(-1)?.content ?? ''));
      return inner.generate(req, ctx);
    },
    embed: (req, ctx) => inner.embed(req, ctx),
    listModels: () => inner.listModels(),
  };
  const store = await createStore({ config });
  const services: TaskService[] = [];
  const make = async (workers: number) => {
    const s = await createTaskService({
      config,
      logger: silentLogger,
      pipeline,
      store,
      engine: { kind: opts.engine, prefix: names.prefix, queueName: names.queueName, ...opts.tuning },
      callbacks: { backoffMs: 20 },
    });
    services.push(s);
    if (workers > 0) await s.startWorkers(workers);
    return s;
  };
  const service = await make(opts.workers ?? 2);
  return {
    sim,
    config,
    store,
    service,
    names,
    calls,
    peer: make,
    async close() {
      await Promise.all(services.map((s) => s.close()));
      await store.close();
      catalog.close();
      await Promise.all(adapters.map((a) => a.close()));
      await sim.close();
      if (!opts.names) await cleanup(names, opts.redisUrl);
    },
  };
}

/** Remove a rig's Redis keys and PG schema. */
export async function cleanup(names: RigNames, redisUrl = TEST_REDIS_URL): Promise<void> {
  await dropSchema(TEST_DATABASE_URL, names.schema);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${names.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Poll `fn` until it returns a truthy value (no timing assertions: vitest's timeout bounds it). */
export async function until<T>(fn: () => Promise<T> | T, everyMs = 20): Promise<NonNullable<T>> {
  for (;;) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Wait for a task's final state via its event stream. */
export async function finalState(service: TaskService, id: string) {
  let last;
  for await (const v of service.events(id)) last = v;
  if (!last) throw new Error(`no events for task ${id}`);
  return last;
}
