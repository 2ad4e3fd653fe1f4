import { SHUTDOWN_ERROR } from './outcome.js';
import { SampleWindow } from './samples.js';
import {
  backoffMs,
  bandOf,
  type BandCounts,
  type EngineHooks,
  type NewJob,
  type Processor,
  type QueueEngine,
  type RunOutcome,
  type TaskEvent,
  type TaskRecord,
} from './types.js';

export interface MemoryEngineOptions {
  hooks: EngineHooks;
  /** Attempts per job for retryable failures. */
  attempts: number;
  /** Base of the exponential retry backoff, ms. */
  backoffMs: number;
  /** Finished jobs are forgotten after this many seconds (the store still has them). */
  retentionS: number;
  /** At most this many finished jobs are kept in memory. Default 10000. */
  maxFinished?: number;
}

type Where = 'waiting' | 'delayed' | 'active' | 'held' | 'done';

interface Entry {
  job: NewJob;
  rec: TaskRecord;
  where: Where;
  failures: number;
  controller?: AbortController;
  abortReason?: 'cancel' | 'shutdown';
  retryTimer?: NodeJS.Timeout;
}

/**
 * The in-process queue: same semantics as the BullMQ engine (priority bands, FIFO within a band,
 * attempts with exponential backoff, cancel, graceful close), but single-process and NOT durable:
 * jobs live in this process's memory. At close, jobs that never finished are failed with
 * SUTAZAI_ERR_SHUTTING_DOWN in the store rather than silently lost.
 */
export function createMemoryEngine(opts: MemoryEngineOptions): QueueEngine {
  const entries = new Map<string, Entry>();
  const bands: Record<keyof BandCounts, string[]> = { high: [], normal: [], low: [] };
  const active = new Set<Entry>();
  const finished: Entry[] = [];
  const listeners = new Set<(ev: TaskEvent) => void>();
  const counters = { completed: 0, failed: 0, cancelled: 0, retried: 0 };
  const waitMs = new SampleWindow(1000);
  const runMs = new SampleWindow(1000);
  const maxFinished = opts.maxFinished ?? 10_000;
  let processor: Processor | undefined;
  let concurrency = 0;
  let closing = false;
  let idle: Array<() => void> = [];

  const emit = (e: Entry) => {
    const ev: TaskEvent = { id: e.rec.id, status: e.rec.status, attempts: e.rec.attempts };
    for (const l of listeners) l(ev);
  };

  const enqueue = (e: Entry) => {
    e.where = 'waiting';
    e.rec.status = 'queued';
    bands[bandOf(e.job.priority)].push(e.job.id);
  };

  const dequeue = (): Entry | undefined => {
    for (const band of [bands.high, bands.normal, bands.low]) {
      const id = band.shift();
      if (id !== undefined) return entries.get(id);
    }
    return undefined;
  };

  function trim(now: number) {
    const oldest = now - opts.retentionS * 1000;
    while (finished.length > 0) {
      const first = finished[0] as Entry;
      if (finished.length <= maxFinished && (first.rec.finishedAt ?? now) >= oldest) break;
      finished.shift();
      entries.delete(first.rec.id);
    }
  }

  async function finish(e: Entry, final: Partial<TaskRecord> & Pick<TaskRecord, 'status'>, ranMs?: number) {
    const now = Date.now();
    const rec: TaskRecord = { ...e.rec, ...final, finishedAt: now };
    await opts.hooks.onFinal(rec, {
      ...(e.job.callbackUrl !== undefined ? { callbackUrl: e.job.callbackUrl } : {}),
      ...(ranMs !== undefined ? { runMs: ranMs } : {}),
    });
    e.rec = rec;
    e.where = 'done';
    if (rec.status === 'completed' || rec.status === 'failed' || rec.status === 'cancelled')
      counters[rec.status]++;
    if (ranMs !== undefined) runMs.add(ranMs);
    finished.push(e);
    trim(now);
    emit(e);
  }

  async function settle(e: Entry, outcome: RunOutcome, ranMs: number) {
    switch (outcome.kind) {
      case 'completed':
        return finish(e, { status: 'completed', result: outcome.result }, ranMs);
      case 'failed':
        e.failures++;
        if (outcome.retryable && e.failures < opts.attempts) {
          counters.retried++;
          e.where = 'delayed';
          e.rec.status = 'queued';
          e.retryTimer = setTimeout(
            () => {
              e.retryTimer = undefined;
              enqueue(e);
              pump();
            },
            backoffMs(opts.backoffMs, e.failures),
          );
          emit(e);
          return;
        }
        return finish(e, { status: 'failed', error: outcome.error }, ranMs);
      case 'aborted':
        if (e.abortReason === 'cancel') return finish(e, { status: 'cancelled' }, ranMs);
        // Shutdown: handed back; close() fails it in the store since nothing will run it.
        e.where = 'held';
        e.rec.status = 'queued';
        emit(e);
        return;
    }
  }

  async function run(e: Entry, proc: Processor) {
    const startedAt = Date.now();
    e.where = 'active';
    e.rec.status = 'running';
    e.rec.attempts++;
    e.rec.startedAt = startedAt;
    if (e.rec.attempts === 1) waitMs.add(startedAt - e.rec.createdAt);
    const controller = new AbortController();
    e.controller = controller;
    active.add(e);
    emit(e);
    let outcome: RunOutcome;
    try {
      outcome = await proc(
        { ...e.job, attempt: e.failures + 1, maxAttempts: opts.attempts, startedAt },
        controller.signal,
      );
    } catch {
      outcome = {
        kind: 'failed',
        error: { code: 'SUTAZAI_ERR_INTERNAL', message: 'task processor crashed' },
        retryable: false,
      };
    }
    if (outcome.kind === 'aborted' && e.abortReason === undefined) {
      outcome = {
        kind: 'failed',
        error: { code: 'SUTAZAI_ERR_INTERNAL', message: 'task aborted' },
        retryable: false,
      };
    }
    e.controller = undefined;
    try {
      await settle(e, outcome, Date.now() - startedAt);
    } finally {
      active.delete(e);
      if (active.size === 0) {
        for (const resolve of idle) resolve();
        idle = [];
      }
      pump();
    }
  }

  function pump() {
    while (!closing && processor && active.size < concurrency) {
      const e = dequeue();
      if (!e) return;
      void run(e, processor);
    }
  }

  const whenIdle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (active.size === 0) return resolve();
      const t = setTimeout(resolve, ms);
      idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });

  return {
    kind: 'memory',
    distributed: false,
    get concurrency() {
      return concurrency;
    },
    async add(job) {
      if (closing) throw new Error('queue is closing');
      // A job id is added once (as BullMQ does): re-enqueueing from the store may race a submission.
      if (entries.has(job.id)) return;
      const e: Entry = {
        job,
        rec: {
          id: job.id,
          type: job.type,
          status: 'queued',
          priority: job.priority,
          attempts: 0,
          createdAt: job.createdAt,
        },
        where: 'waiting',
        failures: 0,
      };
      entries.set(job.id, e);
      enqueue(e);
      emit(e);
      pump();
    },
    async get(id) {
      const e = entries.get(id);
      return e ? { ...e.rec } : undefined;
    },
    async listLive(status, limit) {
      const out: TaskRecord[] = [];
      for (const e of entries.values()) {
        if (e.where === 'done') continue;
        if (status === undefined || e.rec.status === status) out.push({ ...e.rec });
      }
      return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
    },
    async cancel(id) {
      const e = entries.get(id);
      if (!e) return 'not-found';
      switch (e.where) {
        case 'done':
          return 'final';
        case 'active':
          e.abortReason = 'cancel';
          e.controller?.abort('cancel');
          return 'signalled';
        case 'waiting': {
          const band = bands[bandOf(e.job.priority)];
          const i = band.indexOf(id);
          if (i >= 0) band.splice(i, 1);
          break;
        }
        case 'delayed':
          clearTimeout(e.retryTimer);
          e.retryTimer = undefined;
          break;
        case 'held':
          break;
      }
      await finish(e, { status: 'cancelled' });
      return 'cancelled';
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async counts() {
      let delayed = 0;
      for (const e of entries.values()) if (e.where === 'delayed') delayed++;
      return {
        depth: { high: bands.high.length, normal: bands.normal.length, low: bands.low.length },
        delayed,
        active: active.size,
        ...counters,
        waitMs: waitMs.values(),
        runMs: runMs.values(),
      };
    },
    async startWorkers(n, proc) {
      if (closing) throw new Error('queue is closing');
      processor = proc;
      concurrency = n;
      pump();
    },
    async close(deadlineMs) {
      if (closing) return;
      closing = true;
      await whenIdle(deadlineMs);
      for (const e of active) {
        e.abortReason = 'shutdown';
        e.controller?.abort('shutdown');
      }
      await whenIdle(5_000);
      for (const e of entries.values()) {
        if (e.where === 'done' || e.where === 'active') continue;
        clearTimeout(e.retryTimer);
        await finish(e, { status: 'failed', error: SHUTDOWN_ERROR });
      }
      listeners.clear();
    },
  };
}
