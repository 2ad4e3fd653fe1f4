import { Queue, type JobType } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { BULL_PRIORITY, keyNames, statusOf, toRecord, type JobData, type TaskJob } from './bullmq-records.js';
import { startBullWorker, type BullWorker } from './bullmq-worker.js';
import { bandOf, type EngineHooks, type QueueEngine, type TaskEvent, type TaskRecord } from './types.js';

export interface BullEngineOptions {
  redisUrl: string;
  /** BullMQ key prefix, e.g. "sutazai:bull". */
  prefix: string;
  /** Queue name. Default "tasks". */
  queueName?: string;
  attempts: number;
  backoffMs: number;
  /** Finished jobs are trimmed from Redis after this age; the store keeps them. */
  retentionS: number;
  hooks: EngineHooks;
  logger: FastifyBaseLogger;
  /** A worker that stops renewing its lock this long is presumed dead. Default 30000 ms. */
  lockDurationMs?: number;
  /** How often stalled (orphaned) jobs are looked for. Default 30000 ms. */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails. Default 2. */
  maxStalledCount?: number;
}

const QUEUED_TYPES: JobType[] = ['prioritized', 'waiting', 'delayed'];

/**
 * BullMQ on Redis: producers (this Queue) and consumers (startWorkers, any number of processes)
 * are separate; status events and cancellation travel over Redis pub/sub, so a DELETE in one
 * process aborts the job in whichever process runs it.
 */
export async function createBullEngine(opts: BullEngineOptions): Promise<QueueEngine> {
  const queueName = opts.queueName ?? 'tasks';
  const keys = keyNames(opts.prefix, queueName);
  const { logger } = opts;
  // Producer-side commands fail fast while Redis is away rather than hanging a submission.
  const cmd = new Redis(opts.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  let workerConn: Redis | undefined;
  for (const c of [cmd, sub]) c.on('error', (err) => logger.debug({ err }, 'redis connection error (tasks)'));
  const listeners = new Set<(ev: TaskEvent) => void>();
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p
      .catch((err: unknown) => logger.warn({ err }, 'task background step failed'))
      .finally(() => pending.delete(q));
    pending.add(q);
  };
  let worker: BullWorker | undefined;
  let queue: Queue<JobData, unknown, string> | undefined;

  try {
    await Promise.all([cmd.connect(), sub.connect()]);
    queue = new Queue<JobData, unknown, string>(queueName, { connection: cmd, prefix: opts.prefix });
    queue.on('error', (err) => logger.debug({ err }, 'task queue error'));
    await queue.waitUntilReady();
    await sub.subscribe(keys.cancel);
    await cmd.set(keys.marker, String(Date.now()));
  } catch (err) {
    cmd.disconnect();
    sub.disconnect();
    throw err;
  }
  const q = queue;

  // Status events are a channel every worker publishes to for every job (~3 a task): a gateway that
  // nobody watches (no SSE client, a shared store) would parse thousands a second for nothing, on
  // the event loop that answers submissions. So the events channel is subscribed only while there
  // are listeners. A watcher that registers just before the subscription is active may miss an
  // event in that window; watch.ts re-reads the state every 2 s, which bounds the delay.
  let eventsWanted = false;
  const syncEventsSubscription = () => {
    const want = listeners.size > 0;
    if (want === eventsWanted) return;
    eventsWanted = want;
    // One connection, commands in order: the last (un)subscribe sent is the state Redis ends in.
    (want ? sub.subscribe(keys.events) : sub.unsubscribe(keys.events)).catch((err: unknown) =>
      logger.debug({ err }, 'could not change the task events subscription'),
    );
  };

  sub.on('message', (channel: string, message: string) => {
    if (channel === keys.cancel) {
      worker?.cancel(message);
      return;
    }
    let ev: TaskEvent;
    try {
      ev = JSON.parse(message) as TaskEvent;
    } catch {
      return;
    }
    for (const l of listeners) l(ev);
  });

  const getJob = (id: string) => q.getJob(id) as Promise<TaskJob | undefined>;

  return {
    kind: 'bullmq',
    distributed: true,
    get concurrency() {
      return worker?.concurrency ?? 0;
    },
    async add(job) {
      await q.add(
        job.type,
        {
          payload: job.payload,
          priority: job.priority,
          ...(job.callbackUrl !== undefined ? { callbackUrl: job.callbackUrl } : {}),
          ...(job.requeued ? { requeued: true } : {}),
        },
        {
          jobId: job.id,
          timestamp: job.createdAt,
          priority: BULL_PRIORITY[bandOf(job.priority)],
          attempts: opts.attempts,
          backoff: { type: 'exponential', delay: opts.backoffMs },
          removeOnComplete: { age: opts.retentionS },
          removeOnFail: { age: opts.retentionS },
        },
      );
    },
    async get(id) {
      // State first, then data: a job seen "completed" is read with its result (the reverse order
      // could pair a stale, result-less hash with a newer state).
      const status = statusOf(await q.getJobState(id));
      if (status === undefined) return undefined;
      const job = await getJob(id);
      return job ? toRecord(job, status) : undefined;
    },
    async listLive(status, limit) {
      const groups: Array<['queued' | 'running', JobType[]]> = [];
      if (status !== 'running') groups.push(['queued', QUEUED_TYPES]);
      if (status !== 'queued') groups.push(['running', ['active']]);
      const out: TaskRecord[] = [];
      for (const [st, types] of groups) {
        const jobs = (await q.getJobs(types, 0, limit - 1, false)) as TaskJob[];
        for (const j of jobs) if (j?.id) out.push(toRecord(j, st));
      }
      return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
    },
    async cancel(id) {
      const job = await getJob(id);
      if (!job) return 'not-found';
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return 'final';
      if (state !== 'active') {
        // Store first: once the job leaves Redis, the store is where readers find it.
        const rec: TaskRecord = { ...toRecord(job, 'queued'), status: 'cancelled', finishedAt: Date.now() };
        await opts.hooks.onFinal(rec, job.data.callbackUrl ? { callbackUrl: job.data.callbackUrl } : {});
        if ((await q.remove(id)) === 1) {
          await cmd
            .multi()
            .hincrby(keys.stats, 'cancelled', 1)
            .publish(keys.events, JSON.stringify({ id, status: 'cancelled', attempts: rec.attempts }))
            .exec();
          return 'cancelled';
        }
        // Locked: a worker took it meanwhile. Cancel it as a running job.
      }
      await cmd.multi().set(keys.cancelFlag(id), '1', 'EX', 3600).publish(keys.cancel, id).exec();
      return 'signalled';
    },
    onEvent(listener) {
      listeners.add(listener);
      syncEventsSubscription();
      return () => {
        listeners.delete(listener);
        syncEventsSubscription();
      };
    },
    async counts() {
      const [perPriority, counts, stats, wait, run] = await Promise.all([
        q.getCountsPerPriority(Object.values(BULL_PRIORITY)),
        q.getJobCounts('active', 'delayed'),
        cmd.hgetall(keys.stats),
        cmd.lrange(keys.waitSamples, 0, -1),
        cmd.lrange(keys.runSamples, 0, -1),
      ]);
      const num = (v: string | number | undefined) => Number(v ?? 0);
      return {
        depth: {
          high: num(perPriority[BULL_PRIORITY.high]),
          normal: num(perPriority[BULL_PRIORITY.normal]),
          low: num(perPriority[BULL_PRIORITY.low]),
        },
        delayed: num(counts.delayed),
        active: num(counts.active),
        completed: num(stats.completed),
        failed: num(stats.failed),
        cancelled: num(stats.cancelled),
        retried: num(stats.retried),
        waitMs: wait.map(Number),
        runMs: run.map(Number),
      };
    },
    async dataLost() {
      try {
        // SET NX: only the process that finds the marker gone puts it back and reports the loss
        // (the others' re-enqueue would be harmless anyway: a job id is added once).
        return (await cmd.set(keys.marker, String(Date.now()), 'NX')) === 'OK';
      } catch {
        return false;
      }
    },
    async startWorkers(n, proc) {
      if (worker) throw new Error('task workers already started');
      if (n <= 0) return;
      workerConn = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
      workerConn.on('error', (err) => logger.debug({ err }, 'redis connection error (task worker)'));
      worker = await startBullWorker(
        {
          queueName,
          prefix: opts.prefix,
          connection: workerConn,
          cmd,
          keys,
          hooks: opts.hooks,
          logger,
          lockDurationMs: opts.lockDurationMs ?? 30_000,
          stalledIntervalMs: opts.stalledIntervalMs ?? 30_000,
          maxStalledCount: opts.maxStalledCount ?? 2,
          track,
        },
        n,
        proc,
      );
    },
    async close(deadlineMs) {
      if (worker) await worker.close(deadlineMs);
      await Promise.allSettled([...pending]);
      listeners.clear();
      await q.close();
      for (const c of [sub, cmd, workerConn]) {
        if (!c) continue;
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }
    },
  };
}
