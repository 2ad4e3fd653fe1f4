import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import { GatewayError, errors } from '../errors/catalogue.js';
import { zodToGatewayError } from '../errors/validation.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { FINAL_STATUSES, type Store } from '../store/types.js';
import { createBullEngine } from './bullmq-engine.js';
import { checkCallbackTarget, checkCallbackUrl, createCallbackSender } from './callbacks.js';
import { createMemoryEngine } from './memory-engine.js';
import { classifyError } from './outcome.js';
import { startReconciler } from './reconcile.js';
import { isTaskType, PAYLOAD_SHAPES, TASKS, type TaskInput } from './registry.js';
import { watchTask } from './watch.js';
import {
  percentile,
  type BandCounts,
  type EngineHooks,
  type NewJob,
  type Processor,
  type QueueEngine,
  type TaskStatus,
  type TaskContext,
} from './types.js';
import { toView, type TaskView } from './view.js';

export interface TaskServiceDeps {
  config: Config;
  logger: FastifyBaseLogger;
  pipeline: Pipeline;
  store: Store;
  /** Engine tuning, mostly for tests and benchmarks. */
  engine?: {
    /** Default: "bullmq" when config.redisUrl is set, else "memory". */
    kind?: 'bullmq' | 'memory';
    /** BullMQ key prefix. Default `<cachePrefix>bull`. */
    prefix?: string;
    /** Default "tasks". */
    queueName?: string;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    maxStalledCount?: number;
  };
  /** Callback delivery tuning. Defaults: 3 attempts, 1 s backoff, 10 s timeout. */
  callbacks?: { attempts?: number; backoffMs?: number; timeoutMs?: number };
}

/** Queue figures for metrics. Counters are queue-wide for BullMQ, per process in memory. */
export interface TaskStats {
  engine: 'bullmq' | 'memory';
  /** Consumers in this process. */
  workers: number;
  depth: BandCounts;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  retried: number;
  waitMs: { p50: number; p95: number };
  runMs: { p50: number; p95: number };
}

export interface TaskListQuery {
  status?: TaskStatus;
  /** Default 50, at most 1000. */
  limit?: number;
  /** Only the tasks of this API key. */
  owner?: string;
}

export interface TaskService {
  readonly engine: 'bullmq' | 'memory';
  /** Validate and enqueue; 400 GatewayError naming the field on bad input. */
  /** `owner`: the API key submitting it (only that key, and the admin, may read it). */
  submit(input: TaskInput, owner?: string): Promise<TaskView>;
  get(id: string): Promise<TaskView | undefined>;
  /** The API key that submitted a task; undefined when anonymous or unknown. */
  ownerOf(id: string): Promise<string | undefined>;
  list(query?: TaskListQuery): Promise<TaskView[]>;
  /** Cancel a queued task, or abort a running one; undefined when unknown. */
  cancel(id: string): Promise<TaskView | undefined>;
  /** The task now, then each status change, ending after the final state (which carries the result). */
  events(id: string, signal?: AbortSignal): AsyncIterable<TaskView>;
  stats(): Promise<TaskStats>;
  startWorkers(n: number): Promise<void>;
  /** Stop consumers (graceful, up to shutdownGraceMs) and release connections. The store is not closed. */
  close(): Promise<void>;
}

const queueUnavailable = (cause: unknown) =>
  new GatewayError('SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE', 'task queue unavailable, retry later', {
    retryAfter: 5,
    cause,
  });

export async function createTaskService(deps: TaskServiceDeps): Promise<TaskService> {
  const { config, logger, pipeline, store } = deps;
  const callbacks = createCallbackSender({
    allowedHosts: config.callbackAllowedHosts,
    allowPrivate: config.callbackAllowPrivate,
    logger,
    ...deps.callbacks,
  });
  const hooks: EngineHooks = {
    async onFinal(record, job) {
      try {
        await store.tasks.save(record);
      } catch (err) {
        logger.error({ err, taskId: record.id }, 'could not store the final state of a task');
      }
      if (job.callbackUrl) callbacks.send(job.callbackUrl, toView(record));
    },
  };
  const kind = deps.engine?.kind ?? (config.redisUrl ? 'bullmq' : 'memory');
  const common = {
    hooks,
    attempts: config.taskAttempts,
    backoffMs: config.taskBackoffMs,
    retentionS: config.taskRetentionS,
  };
  let engine: QueueEngine;
  if (kind === 'bullmq') {
    if (!config.redisUrl) throw new Error('the BullMQ task engine needs REDIS_URL');
    const e = deps.engine ?? {};
    engine = await createBullEngine({
      ...common,
      logger,
      redisUrl: config.redisUrl,
      prefix: e.prefix ?? `${config.cachePrefix}bull`,
      ...(e.queueName !== undefined ? { queueName: e.queueName } : {}),
      ...(e.lockDurationMs !== undefined ? { lockDurationMs: e.lockDurationMs } : {}),
      ...(e.stalledIntervalMs !== undefined ? { stalledIntervalMs: e.stalledIntervalMs } : {}),
      ...(e.maxStalledCount !== undefined ? { maxStalledCount: e.maxStalledCount } : {}),
    });
  } else {
    engine = createMemoryEngine(common);
  }

  // Workers elsewhere write their own store; an unshared (PGlite) store learns final states here.
  const background = new Set<Promise<unknown>>();
  const unsubscribe =
    engine.distributed && !store.shared
      ? engine.onEvent((ev) => {
          if (!FINAL_STATUSES.has(ev.status)) return;
          const p = engine
            .get(ev.id)
            .then((r) => (r && FINAL_STATUSES.has(r.status) ? store.tasks.save(r) : undefined))
            .catch((err: unknown) => logger.warn({ err, taskId: ev.id }, 'could not copy a final task state'))
            .finally(() => background.delete(p));
          background.add(p);
        })
      : undefined;

  // What the store says is queued but the queue lost (Redis restarted empty) goes back on it.
  const reconciler = startReconciler({ engine, store, logger, intervalMs: config.taskReconcileMs });

  const processor: Processor = async (run, signal) => {
    // A re-enqueued task may have finished meanwhile (its first run outlived the queue's data):
    // the store has its outcome, so it is not run a second time. (Only those: a read per task
    // would cost an embedded store's one connection on every run.)
    const stored = run.requeued ? await store.tasks.get(run.id).catch(() => undefined) : undefined;
    if (stored?.status === 'completed') return { kind: 'completed', result: stored.result };
    if (stored?.status === 'failed' && stored.error)
      return { kind: 'failed', retryable: false, error: stored.error };
    if (!isTaskType(run.type)) {
      return {
        kind: 'failed',
        retryable: false,
        error: { code: 'SUTAZAI_ERR_VALIDATION', message: `unknown task type '${run.type}'` },
      };
    }
    const def = TASKS[run.type];
    const parsed = def.schema.safeParse(run.payload);
    if (!parsed.success) {
      const err = zodToGatewayError(parsed.error, 'payload');
      return { kind: 'failed', retryable: false, error: { code: err.code, message: err.message } };
    }
    const ctx: TaskContext = { taskId: run.id, pipeline, config, signal };
    try {
      // Safe: the payload was just parsed by this definition's own schema.
      const runTask = def.run as (payload: unknown, ctx: TaskContext) => Promise<unknown>;
      return { kind: 'completed', result: await runTask(parsed.data, ctx) };
    } catch (err) {
      if (signal.aborted) return { kind: 'aborted' };
      const c = classifyError(err);
      const log = c.retryable ? logger.info.bind(logger) : logger.warn.bind(logger);
      log(
        { taskId: run.id, attempt: run.attempt, code: c.error.code, retryable: c.retryable },
        'task attempt failed',
      );
      return { kind: 'failed', ...c };
    }
  };

  let closing: Promise<void> | undefined;

  async function get(id: string): Promise<TaskView | undefined> {
    let live;
    try {
      live = await engine.get(id);
    } catch (err) {
      const stored = await store.tasks.get(id);
      if (stored) return toView(stored);
      throw queueUnavailable(err);
    }
    const rec = live ?? (await store.tasks.get(id));
    return rec ? toView(rec) : undefined;
  }

  const service: TaskService = {
    engine: engine.kind,
    async submit(input, owner) {
      if (closing) throw new GatewayError('SUTAZAI_ERR_SHUTTING_DOWN', 'the gateway is shutting down');
      if (!isTaskType(input.type)) {
        throw errors.validation(`task_type: must be one of ${Object.keys(TASKS).join(', ')}`, 'task_type');
      }
      const priority = input.priority ?? 0;
      if (!Number.isInteger(priority) || priority < 0 || priority > 10) {
        throw errors.validation('priority: must be an integer from 0 to 10', 'priority');
      }
      const callbackUrl =
        input.callbackUrl === undefined
          ? undefined
          : checkCallbackUrl(input.callbackUrl, config.callbackAllowedHosts);
      if (callbackUrl !== undefined) await checkCallbackTarget(callbackUrl, config.callbackAllowPrivate);
      const parsed = TASKS[input.type].schema.safeParse(input.payload);
      if (!parsed.success) {
        const e = zodToGatewayError(parsed.error, 'payload');
        const expects = `${input.type} expects payload ${PAYLOAD_SHAPES[input.type]}`;
        throw errors.validation(`${e.message}; ${expects}`, e.param);
      }
      if (
        input.type === 'batch' &&
        (parsed.data as { prompts: string[] }).prompts.length > config.batchMaxItems
      ) {
        throw errors.validation(
          `payload.prompts: at most ${config.batchMaxItems} prompts per batch`,
          'payload.prompts',
        );
      }
      const job: NewJob = {
        id: randomUUID(),
        type: input.type,
        payload: parsed.data,
        priority,
        ...(callbackUrl !== undefined ? { callbackUrl } : {}),
        createdAt: Date.now(),
      };
      // The record first: once accepted, a task is in SQL with its payload, whatever Redis loses.
      try {
        // Queue wait counts from when the store is open: the first task of an embedded store
        // waits for it to open (seconds), which is neither queueing nor the client's doing.
        if ('opened' in store && store.opened === false) {
          await store.tasks.get(job.id);
          job.createdAt = Date.now();
        }
        // An owned task carries its owner from the start, so ownership never depends on the queue.
        await store.tasks.enqueue(job, owner);
      } catch (err) {
        throw new GatewayError('SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE', 'task store unavailable, retry later', {
          retryAfter: 5,
          cause: err,
        });
      }
      try {
        await engine.add(job);
      } catch (err) {
        await store.tasks.unqueue(job.id).catch(() => undefined);
        throw queueUnavailable(err);
      }
      return toView({
        id: job.id,
        type: job.type,
        status: 'queued',
        priority,
        attempts: 0,
        createdAt: job.createdAt,
      });
    },
    get,
    async ownerOf(id) {
      return (await store.tasks.get(id))?.owner;
    },
    async list(query = {}) {
      const limit = Math.min(1000, Math.max(1, Math.trunc(query.limit ?? 50)));
      const { status, owner } = query;
      if (owner !== undefined) {
        // A key's tasks come from the store (each is saved at submit) with the live state on top.
        const final = status !== undefined && FINAL_STATUSES.has(status);
        const recs = await store.tasks.list({ owner, limit, ...(final ? { status } : {}) });
        const views = await Promise.all(
          recs.map(async (r) =>
            FINAL_STATUSES.has(r.status) ? toView(r) : ((await get(r.id)) ?? toView(r)),
          ),
        );
        return status === undefined || final ? views : views.filter((v) => v.status === status);
      }
      if (status !== undefined && FINAL_STATUSES.has(status)) {
        return (await store.tasks.list({ status, limit })).map(toView);
      }
      const live = await engine
        .listLive(status as 'queued' | 'running' | undefined, limit)
        .catch((err: unknown) => {
          throw queueUnavailable(err);
        });
      if (status !== undefined) return live.map(toView);
      const seen = new Set(live.map((r) => r.id));
      const stored = (await store.tasks.list({ limit })).filter((r) => !seen.has(r.id));
      return [...live, ...stored]
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, limit)
        .map(toView);
    },
    async cancel(id) {
      let r;
      try {
        r = await engine.cancel(id);
      } catch (err) {
        throw queueUnavailable(err);
      }
      if (r === 'signalled') {
        // Give the worker a moment to abort and record "cancelled"; report whatever state follows.
        const deadline = AbortSignal.timeout(10_000);
        let last: TaskView | undefined;
        for await (const v of watchTask(engine, get, id, deadline)) last = v;
        return last ?? get(id);
      }
      return get(id);
    },
    events: (id, signal) => watchTask(engine, get, id, signal),
    async stats() {
      const c = await engine.counts();
      return {
        engine: engine.kind,
        workers: engine.concurrency,
        depth: c.depth,
        delayed: c.delayed,
        active: c.active,
        completed: c.completed,
        failed: c.failed,
        cancelled: c.cancelled,
        retried: c.retried,
        waitMs: { p50: percentile(c.waitMs, 50), p95: percentile(c.waitMs, 95) },
        runMs: { p50: percentile(c.runMs, 50), p95: percentile(c.runMs, 95) },
      };
    },
    async startWorkers(n) {
      if (n <= 0) {
        if (engine.kind === 'memory')
          logger.warn('task concurrency is 0 with the in-process queue: tasks will never run');
        return;
      }
      await engine.startWorkers(n, processor);
    },
    close() {
      closing ??= (async () => {
        reconciler.close();
        await engine.close(config.shutdownGraceMs);
        unsubscribe?.();
        await Promise.allSettled([...background]);
        await callbacks.close(Math.min(2000, config.shutdownGraceMs));
      })();
      return closing;
    },
  };
  return service;
}
