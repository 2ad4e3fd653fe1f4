import type { TaskErrorInfo, TaskRecord, TaskStatus } from './types.js';

/** A task as the HTTP API returns it (snake_case, ISO times). */
export interface TaskView {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  result?: unknown;
  error?: TaskErrorInfo;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toView(r: TaskRecord): TaskView {
  return {
    task_id: r.id,
    task_type: r.type,
    status: r.status,
    priority: r.priority,
    attempts: r.attempts,
    ...(r.result !== undefined && r.result !== null ? { result: r.result } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    created_at: iso(r.createdAt),
    ...(r.startedAt !== undefined ? { started_at: iso(r.startedAt) } : {}),
    ...(r.finishedAt !== undefined ? { finished_at: iso(r.finishedAt) } : {}),
  };
}
