import { checkSchemaName, type SqlDriver } from './driver.js';

/** One schema change. Versions only ever grow; a released migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered migrations, applied in order at start-up. The same SQL runs on PostgreSQL and PGlite. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks',
    sql: `
      CREATE TABLE tasks (
        id          text PRIMARY KEY,
        task_type   text NOT NULL,
        status      text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        priority    integer NOT NULL,
        attempts    integer NOT NULL DEFAULT 0,
        result      jsonb,
        error       jsonb,
        created_at  timestamptz NOT NULL,
        started_at  timestamptz,
        finished_at timestamptz
      );
      CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC);
      CREATE INDEX tasks_status_created_at_idx ON tasks (status, created_at DESC);
    `,
  },
  {
    // The task record is the source of truth for what is queued (issue 23, finding 9): enough to
    // put a job back on the queue when Redis has lost it.
    version: 2,
    name: 'tasks-queued-payload',
    sql: `
      ALTER TABLE tasks ADD COLUMN payload jsonb;
      ALTER TABLE tasks ADD COLUMN callback_url text;
    `,
  },
  {
    version: 3,
    name: 'api_keys',
    // Only a SHA-256 of each key is kept; the key itself is shown once, at creation.
    sql: `
      CREATE TABLE api_keys (
        id          text PRIMARY KEY,
        name        text NOT NULL,
        key_hash    text NOT NULL UNIQUE,
        rpm         integer,
        tpm         integer,
        concurrency integer,
        models      text[],
        metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
        expires_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      );
      ALTER TABLE tasks ADD COLUMN owner_key text;
      CREATE INDEX tasks_owner_created_at_idx ON tasks (owner_key, created_at DESC);
    `,
  },
  {
    version: 4,
    name: 'usage',
    // One row per LLM request; no prompt or answer text.
    sql: `
      CREATE TABLE usage_log (
        id                bigserial PRIMARY KEY,
        at                timestamptz NOT NULL,
        key_id            text,
        surface           text NOT NULL,
        model             text NOT NULL,
        upstream          text,
        status            integer NOT NULL,
        prompt_tokens     integer NOT NULL DEFAULT 0,
        completion_tokens integer NOT NULL DEFAULT 0,
        latency_ms        real NOT NULL,
        ttft_ms           real,
        cache             text,
        request_id        text NOT NULL
      );
      CREATE INDEX usage_log_at_idx ON usage_log (at);
      CREATE INDEX usage_log_key_at_idx ON usage_log (key_id, at);
    `,
  },
];

/**
 * Apply pending migrations in one transaction. An advisory lock serialises processes that start
 * together against the same database, so each migration runs exactly once.
 */
export async function migrate(
  driver: SqlDriver,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return driver.transaction(async (q) => {
    await q.query(`SELECT pg_advisory_xact_lock(hashtext('sutazai.migrations.' || $1::text))`, [schema]);
    await q.exec(`CREATE SCHEMA IF NOT EXISTS "${checkSchemaName(schema)}"`);
    await q.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const rows = await q.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const sorted = [...migrations].sort((a, b) => a.version - b.version);
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.add(m.version);
    }
    return [...applied].sort((a, b) => a - b);
  });
}
