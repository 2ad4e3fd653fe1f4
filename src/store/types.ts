/** Lifecycle of a background task. Final states: completed, failed, cancelled. */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Why a task failed, as shown to clients: a catalogue code and a message. */
export interface TaskErrorInfo {
  code: string;
  message: string;
}

/** A task as the store keeps it. Times are epoch milliseconds. */
export interface TaskRecord {
  id: string;
  type: string;
  status: TaskStatus;
  /** 0-10 as submitted. */
  priority: number;
  /** Attempts started so far (0 while never run). */
  attempts: number;
  result?: unknown;
  error?: TaskErrorInfo;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Id of the API key that submitted it; undefined = anonymous (auth off) or the admin key. */
  owner?: string;
}

export interface TaskListQuery {
  status?: TaskStatus;
  /** Only tasks of this key (undefined = all). */
  owner?: string;
  /** Newest first; at most this many. */
  limit: number;
}

/** A task as submitted: what it takes to (re-)enqueue it. */
export interface QueuedTask {
  id: string;
  type: string;
  payload: unknown;
  priority: number;
  callbackUrl?: string;
  createdAt: number;
}

/** Task records and results. Writes are idempotent, keyed by task id. */
export interface TaskRepository {
  save(record: TaskRecord): Promise<void>;
  /** Record an accepted task as queued, with its payload (a no-op when the id exists). */
  /** Records a task as queued (with its payload and, when a key made it, its owner). */
  enqueue(task: QueuedTask, owner?: string): Promise<void>;
  /** Forget a queued record whose enqueue failed (never touches a task that has moved on). */
  unqueue(id: string): Promise<void>;
  /** Tasks still queued (not final) created before `before` (epoch ms), oldest first. */
  listQueued(before: number, limit: number): Promise<QueuedTask[]>;
  get(id: string): Promise<TaskRecord | undefined>;
  list(query: TaskListQuery): Promise<TaskRecord[]>;
  /** Delete finished tasks older than `before` (epoch ms); returns how many went. */
  deleteFinishedBefore(before: number): Promise<number>;
}

/** Connection pool figures for metrics. PGlite reports one connection. */
export interface StorePoolStats {
  total: number;
  idle: number;
  waiting: number;
}

import type { KeyRepository } from './keys.js';
import type { UsageRepository } from './usage.js';

/** The SQL store: the only module that writes SQL. */
export interface Store {
  readonly driver: 'postgres' | 'pglite';
  /** True when other processes see the same data (PostgreSQL); PGlite is private to this process. */
  readonly shared: boolean;
  readonly tasks: TaskRepository;
  readonly keys: KeyRepository;
  readonly usage: UsageRepository;
  /** Versions of the migrations applied, ascending. */
  migrations(): Promise<number[]>;
  ping(): Promise<void>;
  poolStats(): StorePoolStats;
  close(): Promise<void>;
}
