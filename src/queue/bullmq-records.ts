import type { Job, JobState } from 'bullmq';
import type { BandCounts, TaskErrorInfo, TaskRecord, TaskStatus } from './types.js';

/** What a BullMQ job carries besides its name (= task type). Ids and inputs only, never secrets. */
export interface JobData {
  payload: unknown;
  /** 0-10 as submitted (BullMQ's own priority only holds the band). */
  priority: number;
  callbackUrl?: string;
  /** See NewJob.requeued. */
  requeued?: boolean;
}

export type TaskJob = Job<JobData, unknown, string>;

/** Band → BullMQ priority (1 = taken first). FIFO within a band. */
export const BULL_PRIORITY: Readonly<Record<keyof BandCounts, number>> = { high: 1, normal: 2, low: 3 };

/** Redis names this engine uses besides BullMQ's own keys. */
export function keyNames(prefix: string, queue: string) {
  const base = `${prefix}:${queue}:x`;
  return {
    events: `${base}:events`,
    cancel: `${base}:cancel`,
    cancelFlag: (id: string) => `${base}:cancel:${id}`,
    stats: `${base}:stats`,
    waitSamples: `${base}:wait`,
    runSamples: `${base}:run`,
    /** Present while Redis still holds this queue's data; its absence means Redis lost it. */
    marker: `${base}:marker`,
  };
}
export type KeyNames = ReturnType<typeof keyNames>;

/**
 * A final failure is recorded in BullMQ's failedReason as JSON so that a cancelled job (which
 * BullMQ can only hold as "failed") and the error code survive in Redis.
 */
export function encodeReason(
  status: 'failed' | 'cancelled',
  finishedAt: number,
  error?: TaskErrorInfo,
): string {
  return JSON.stringify({ status, finishedAt, ...(error ?? {}) });
}

interface Decoded {
  status: 'failed' | 'cancelled';
  error?: TaskErrorInfo;
  finishedAt?: number;
}

export function decodeReason(reason: string | undefined): Decoded {
  if (reason?.startsWith('{')) {
    try {
      const r = JSON.parse(reason) as {
        status?: string;
        code?: unknown;
        message?: unknown;
        finishedAt?: unknown;
      };
      const at = typeof r.finishedAt === 'number' ? { finishedAt: r.finishedAt } : {};
      if (r.status === 'cancelled') return { status: 'cancelled', ...at };
      if (typeof r.code === 'string' && typeof r.message === 'string') {
        return { status: 'failed', error: { code: r.code, message: r.message }, ...at };
      }
    } catch {
      // not ours: fall through
    }
  }
  return { status: 'failed', error: { code: 'SUTAZAI_ERR_INTERNAL', message: reason ?? 'task failed' } };
}

export function statusOf(state: JobState | 'unknown'): TaskStatus | undefined {
  switch (state) {
    case 'active':
      return 'running';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'unknown':
      return undefined;
    default:
      return 'queued';
  }
}

/**
 * A job's BullMQ return value: the result plus the finish time that was stored in SQL, so Redis
 * and the store report the same task identically.
 */
export interface Completion {
  result: unknown;
  finishedAt: number;
}

/** BullMQ job + state → the task record clients see. */
export function toRecord(job: TaskJob, status: TaskStatus): TaskRecord {
  const rec: TaskRecord = {
    id: job.id ?? '',
    type: job.name,
    status,
    priority: job.data.priority,
    attempts: job.attemptsStarted,
    createdAt: job.timestamp,
  };
  if (job.processedOn) rec.startedAt = job.processedOn;
  if (status === 'completed') {
    const rv = job.returnvalue as Partial<Completion> | null;
    rec.result = rv?.result;
    const at = rv?.finishedAt ?? job.finishedOn;
    if (at) rec.finishedAt = at;
  } else if (status === 'failed') {
    const r = decodeReason(job.failedReason);
    rec.status = r.status;
    if (r.error) rec.error = r.error;
    const at = r.finishedAt ?? job.finishedOn;
    if (at) rec.finishedAt = at;
  }
  return rec;
}
