import type { Queryable } from './driver.js';
import type { TaskErrorInfo, TaskListQuery, TaskRecord, TaskRepository, TaskStatus } from './types.js';

interface TaskRow {
  id: string;
  task_type: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  result: unknown;
  error: TaskErrorInfo | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  owner_key: string | null;
}

interface QueuedRow {
  id: string;
  task_type: string;
  priority: number;
  payload: unknown;
  callback_url: string | null;
  created_at: Date;
}

const COLUMNS =
  'id, task_type, status, priority, attempts, result, error, created_at, started_at, finished_at, owner_key';

function toRecord(row: TaskRow): TaskRecord {
  const rec: TaskRecord = {
    id: row.id,
    type: row.task_type,
    status: row.status,
    priority: row.priority,
    attempts: row.attempts,
    createdAt: row.created_at.getTime(),
  };
  if (row.result !== null && row.result !== undefined) rec.result = row.result;
  if (row.error !== null) rec.error = row.error;
  if (row.started_at !== null) rec.startedAt = row.started_at.getTime();
  if (row.finished_at !== null) rec.finishedAt = row.finished_at.getTime();
  if (row.owner_key !== null) rec.owner = row.owner_key;
  return rec;
}

const ts = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
/**
 * JSON for a jsonb column. PostgreSQL's jsonb refuses the NUL character (`\u0000`), which an
 * upstream's error text can hold; such strings are stored with U+FFFD in its place rather than
 * failing the write and losing the task's outcome. The check is on the serialised text, so
 * ordinary records are stringified once.
 */
const json = (v: unknown) => {
  if (v === undefined) return null;
  const text = JSON.stringify(v);
  return text.includes('\\u0000') ? JSON.stringify(v, withoutNul) : text;
};
const withoutNul = (_key: string, value: unknown) =>
  typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;

export function createTaskRepository(db: Queryable): TaskRepository {
  return {
    async save(r) {
      await db.query(
        `INSERT INTO tasks (${COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET
           status = EXCLUDED.status, priority = EXCLUDED.priority, attempts = EXCLUDED.attempts,
           result = EXCLUDED.result, error = EXCLUDED.error, started_at = EXCLUDED.started_at,
           finished_at = EXCLUDED.finished_at`,
        [
          r.id,
          r.type,
          r.status,
          r.priority,
          r.attempts,
          json(r.result),
          json(r.error),
          ts(r.createdAt),
          ts(r.startedAt),
          ts(r.finishedAt),
          r.owner ?? null,
        ],
      );
    },
    async get(id) {
      const rows = await db.query<TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async list(q: TaskListQuery) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.status !== undefined) where.push(`status = $${params.push(q.status)}`);
      if (q.owner !== undefined) where.push(`owner_key = $${params.push(q.owner)}`);
      const rows = await db.query<TaskRow>(
        `SELECT ${COLUMNS} FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id LIMIT $${params.push(q.limit)}`,
        params,
      );
      return rows.map(toRecord);
    },
    async enqueue(t, owner) {
      await db.query(
        `INSERT INTO tasks (id, task_type, status, priority, attempts, created_at, payload, callback_url, owner_key)
         VALUES ($1, $2, 'queued', $3, 0, $4, $5::jsonb, $6, $7)
         ON CONFLICT (id) DO NOTHING`,
        [t.id, t.type, t.priority, ts(t.createdAt), json(t.payload), t.callbackUrl ?? null, owner ?? null],
      );
    },
    async unqueue(id) {
      await db.query(`DELETE FROM tasks WHERE id = $1 AND status = 'queued'`, [id]);
    },
    async listQueued(before, limit) {
      const rows = await db.query<QueuedRow>(
        `SELECT id, task_type, priority, payload, callback_url, created_at FROM tasks
         WHERE status = 'queued' AND payload IS NOT NULL AND created_at < $1
         ORDER BY created_at, id LIMIT $2`,
        [ts(before), limit],
      );
      return rows.map((r) => ({
        id: r.id,
        type: r.task_type,
        payload: r.payload,
        priority: r.priority,
        ...(r.callback_url !== null ? { callbackUrl: r.callback_url } : {}),
        createdAt: r.created_at.getTime(),
      }));
    },
    async deleteFinishedBefore(before) {
      const rows = await db.query<{ id: string }>(
        `DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < $1 RETURNING id`,
        [ts(before)],
      );
      return rows.length;
    },
  };
}
