import { UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import {
  encodeReason,
  toRecord,
  type Completion,
  type JobData,
  type KeyNames,
  type TaskJob,
} from './bullmq-records.js';
import type { EngineHooks, Processor, RunOutcome, TaskEvent, TaskRecord } from './types.js';

export interface BullWorkerDeps {
  queueName: string;
  prefix: string;
  /** Connection for the Worker (BullMQ duplicates it for blocking reads). maxRetriesPerRequest: null. */
  connection: Redis;
  /** Connection for events, counters and cancel flags. */
  cmd: Redis;
  keys: KeyNames;
  hooks: EngineHooks;
  logger: FastifyBaseLogger;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Keep a background promise alive until close (publishes after a job settles). */
  track(p: Promise<unknown>): void;
}

export interface BullWorker {
  readonly concurrency: number;
  /** Abort the job if this process is running it (the signal reaches the upstream request). */
  cancel(id: string): void;
  close(deadlineMs: number): Promise<void>;
}

type Decision = { next: 'retry' } | { next: 'final'; record: TaskRecord; runMs: number };

/**
 * BullMQ consumers in this process. Each attempt runs the processor with BullMQ's abort signal;
 * final states go to the store (hooks.onFinal) before BullMQ marks the job finished, so a client
 * that sees "completed" can always read the result, even after Redis forgot the job.
 */
export async function startBullWorker(deps: BullWorkerDeps, n: number, proc: Processor): Promise<BullWorker> {
  const { cmd, keys, hooks, logger } = deps;
  const decisions = new Map<string, Decision>();

  const publish = (ev: TaskEvent, extra?: (m: ReturnType<Redis['multi']>) => void) => {
    const m = cmd.multi().publish(keys.events, JSON.stringify(ev));
    extra?.(m);
    deps.track(m.exec().catch((err: unknown) => logger.warn({ err }, 'task event publish failed')));
  };
  const countFinal = (rec: TaskRecord, runMs: number) =>
    publish({ id: rec.id, status: rec.status, attempts: rec.attempts }, (m) => {
      m.hincrby(keys.stats, rec.status, 1).lpush(keys.runSamples, runMs).ltrim(keys.runSamples, 0, 999);
    });

  const finalize = async (job: TaskJob, rec: TaskRecord, runMs: number) => {
    await hooks.onFinal(rec, {
      ...(job.data.callbackUrl ? { callbackUrl: job.data.callbackUrl } : {}),
      runMs,
    });
    decisions.set(rec.id, { next: 'final', record: rec, runMs });
  };

  const processJob = async (
    job: TaskJob,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<unknown> => {
    const id = job.id ?? '';
    const startedAt = job.processedOn ?? Date.now();
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    const running: TaskRecord = { ...toRecord(job, 'running'), startedAt };
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    // One round trip: announce "running", sample the queue wait, and look for a cancel that
    // arrived before this worker picked the job up (its flag outlives the pub/sub message).
    const announce = cmd
      .multi()
      .exists(keys.cancelFlag(id))
      .publish(keys.events, JSON.stringify({ id, status: 'running', attempts: running.attempts }));
    if (job.attemptsStarted === 1)
      announce.lpush(keys.waitSamples, startedAt - job.timestamp).ltrim(keys.waitSamples, 0, 999);
    const announced = await announce.exec().catch((err: unknown) => {
      logger.warn({ err }, 'task event publish failed');
      return null;
    });
    let outcome: RunOutcome;
    if (announced?.[0]?.[1] === 1) ac.abort('cancel');
    try {
      outcome = ac.signal.aborted
        ? { kind: 'aborted' }
        : await proc(
            {
              id,
              type: job.name,
              payload: job.data.payload,
              priority: job.data.priority,
              ...(job.data.callbackUrl ? { callbackUrl: job.data.callbackUrl } : {}),
              ...(job.data.requeued ? { requeued: true } : {}),
              createdAt: job.timestamp,
              attempt,
              maxAttempts,
              startedAt,
            },
            ac.signal,
          );
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const runMs = Date.now() - startedAt;
    const final = (over: Partial<TaskRecord> & Pick<TaskRecord, 'status'>) => ({
      ...running,
      ...over,
      finishedAt: Date.now(),
    });
    switch (outcome.kind) {
      case 'completed': {
        const rec = final({ status: 'completed', result: outcome.result });
        await finalize(job, rec, runMs);
        return { result: outcome.result, finishedAt: rec.finishedAt } satisfies Completion;
      }
      case 'failed': {
        if (outcome.retryable && attempt < maxAttempts) {
          decisions.set(id, { next: 'retry' });
          throw new Error(encodeReason('failed', Date.now(), outcome.error));
        }
        const rec = final({ status: 'failed', error: outcome.error });
        await finalize(job, rec, runMs);
        throw new UnrecoverableError(encodeReason('failed', rec.finishedAt, outcome.error));
      }
      case 'aborted':
        if (ac.signal.reason === 'cancel') {
          const rec = final({ status: 'cancelled' });
          await finalize(job, rec, runMs);
          throw new UnrecoverableError(encodeReason('cancelled', rec.finishedAt));
        }
        // Shutdown deadline passed: hand the job back untouched (no attempt used) for another worker.
        await job.moveToWait(token);
        publish({ id, status: 'queued', attempts: running.attempts });
        throw new WaitingError();
    }
  };

  const worker = new Worker<JobData, unknown, string>(deps.queueName, processJob, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: n,
    autorun: false,
    lockDuration: deps.lockDurationMs,
    stalledInterval: deps.stalledIntervalMs,
    maxStalledCount: deps.maxStalledCount,
  });
  worker.on('error', (err) => logger.warn({ err }, 'task worker error'));
  worker.on('completed', (job) => {
    const d = decisions.get(job.id ?? '');
    decisions.delete(job.id ?? '');
    if (d?.next === 'final') countFinal(d.record, d.runMs);
  });
  worker.on('failed', (job, err) => {
    if (!job?.id) return;
    const d = decisions.get(job.id);
    decisions.delete(job.id);
    if (d?.next === 'retry') {
      publish({ id: job.id, status: 'queued', attempts: job.attemptsStarted }, (m) =>
        m.hincrby(keys.stats, 'retried', 1),
      );
    } else if (d?.next === 'final') {
      countFinal(d.record, d.runMs);
    } else {
      // Failed by BullMQ itself (e.g. stalled too often): nobody stored it yet.
      const rec = {
        ...toRecord(job, 'failed'),
        error: { code: 'SUTAZAI_ERR_INTERNAL', message: err.message },
      };
      deps.track(hooks.onFinal(rec, job.data.callbackUrl ? { callbackUrl: job.data.callbackUrl } : {}));
      countFinal(rec, 0);
    }
  });
  worker.on('stalled', (jobId) => {
    logger.warn({ taskId: jobId }, 'task stalled (its worker died?); requeued');
    publish({ id: jobId, status: 'queued', attempts: 0 });
  });

  await worker.waitUntilReady();
  // Not awaited: run() resolves only when the worker closes.
  worker.run().catch((err: unknown) => logger.error({ err }, 'task worker stopped'));

  return {
    concurrency: n,
    cancel(id) {
      worker.cancelJob(id, 'cancel');
    },
    async close(deadlineMs) {
      const timer = setTimeout(() => worker.cancelAllJobs('shutdown'), deadlineMs);
      // BullMQ's close can wait forever on a blocking connection to a Redis that restarted: past
      // the grace period (plus a moment for aborted jobs to hand back), stop waiting; the engine
      // then drops the connections.
      let giveUp: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((r) => (giveUp = setTimeout(() => r('stuck'), deadlineMs + 2000)));
      try {
        if ((await Promise.race([worker.close(), stuck])) === 'stuck')
          deps.logger.warn('task workers did not close in time (Redis away?); dropping their connection');
      } finally {
        clearTimeout(timer);
        clearTimeout(giveUp);
      }
    },
  };
}
