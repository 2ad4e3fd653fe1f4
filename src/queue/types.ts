import type { Config } from '../config/config.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { TaskErrorInfo, TaskRecord, TaskStatus } from '../store/types.js';

export type { TaskErrorInfo, TaskRecord, TaskStatus };

/** A job as handed to an engine at submission. `payload` has been validated for its type. */
export interface NewJob {
  id: string;
  type: string;
  payload: unknown;
  /** 0-10; ≥10 high, 5-9 normal, <5 low. */
  priority: number;
  callbackUrl?: string;
  createdAt: number;
  /** Put back on the queue from its SQL record (reconcile.ts): it may have finished already. */
  requeued?: boolean;
}

/** One attempt of a job, as the processor sees it. */
export interface JobRun extends NewJob {
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
  startedAt: number;
}

/** What running one attempt came to. The processor never throws; it reports one of these. */
export type RunOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; error: TaskErrorInfo; retryable: boolean }
  /** The attempt stopped because its signal aborted (cancel or shutdown; the engine knows which). */
  | { kind: 'aborted' };

export type Processor = (run: JobRun, signal: AbortSignal) => Promise<RunOutcome>;

/** A status change, broadcast to every process watching the queue. */
export interface TaskEvent {
  id: string;
  status: TaskStatus;
  attempts: number;
}

export interface EngineHooks {
  /**
   * Called once a job reaches a final state, before the engine makes that state visible, so the
   * store has it first. Must not throw (log instead).
   */
  onFinal(record: TaskRecord, job: { callbackUrl?: string; runMs?: number }): Promise<void>;
}

export type CancelResult = 'not-found' | 'final' | 'cancelled' | 'signalled';

export interface BandCounts {
  high: number;
  normal: number;
  low: number;
}

export interface EngineCounts {
  depth: BandCounts;
  /** Waiting for a retry (backoff). */
  delayed: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  retried: number;
  /** Queue wait before the first attempt, ms, over recent tasks. */
  waitMs: number[];
  /** Duration of the final attempt, ms, over recent tasks. */
  runMs: number[];
}

/** One queue, two engines: BullMQ on Redis, or in-process. */
export interface QueueEngine {
  readonly kind: 'bullmq' | 'memory';
  /** True when other processes share the queue (their workers may run our jobs). */
  readonly distributed: boolean;
  add(job: NewJob): Promise<void>;
  /** Live state, including finished jobs not yet trimmed; undefined when the engine has no trace. */
  get(id: string): Promise<TaskRecord | undefined>;
  /** Queued and/or running jobs, newest first. */
  listLive(status: 'queued' | 'running' | undefined, limit: number): Promise<TaskRecord[]>;
  cancel(id: string): Promise<CancelResult>;
  /** Subscribe to status changes of every job; returns the unsubscribe function. */
  onEvent(listener: (ev: TaskEvent) => void): () => void;
  counts(): Promise<EngineCounts>;
  /**
   * True once per loss of the queue's own data (Redis restarted empty, flushed): the caller then
   * re-enqueues what the store says is queued. Absent for engines with nothing to lose apart
   * from the process. Never throws (false when the queue cannot be reached).
   */
  dataLost?(): Promise<boolean>;
  /** Start `n` concurrent consumers in this process. */
  startWorkers(n: number, processor: Processor): Promise<void>;
  /** Number of consumers running in this process. */
  readonly concurrency: number;
  /**
   * Stop taking jobs; let active ones finish until `deadlineMs`, then abort them and hand them
   * back to the queue (BullMQ) or fail them (in-process); then release connections.
   */
  close(deadlineMs: number): Promise<void>;
}

/** Priority 0-10 → band. */
export function bandOf(priority: number): keyof BandCounts {
  if (priority >= 10) return 'high';
  if (priority >= 5) return 'normal';
  return 'low';
}

/** Exponential backoff before attempt `failedAttempts + 1`: base, 2·base, 4·base… */
export function backoffMs(base: number, failedAttempts: number): number {
  return base * 2 ** Math.max(0, failedAttempts - 1);
}

/** Nearest-rank percentile of `values` (unsorted); 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** What a task handler gets besides its payload. */
export interface TaskContext {
  taskId: string;
  pipeline: Pipeline;
  config: Config;
  /** Aborted when the task is cancelled or the worker shuts down; passed to the upstream call. */
  signal: AbortSignal;
}
