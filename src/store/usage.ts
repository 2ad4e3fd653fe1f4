import type { Queryable } from './driver.js';

/** One LLM request as the usage log keeps it. No prompt or answer text. Times: epoch ms. */
export interface UsageRow {
  at: number;
  keyId?: string;
  surface: string;
  model: string;
  upstream?: string;
  status: number;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  ttftMs?: number;
  /** hit-l1, hit-l2, miss, merged, bypass; undefined when the request never reached the cache. */
  cache?: string;
  requestId: string;
}

export type UsageGroupBy = 'model' | 'key' | 'day';

export interface UsageQuery {
  keyId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  groupBy?: UsageGroupBy;
}

export interface UsageAggregate {
  /** The model, key id or day (YYYY-MM-DD, UTC); absent when not grouped. */
  group?: string | null;
  requests: number;
  errors: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  avgLatencyMs: number;
  avgTtftMs: number | null;
}

export interface UsageRepository {
  /** One multi-row INSERT (the writer batches rows off the request path). */
  insertMany(rows: readonly UsageRow[]): Promise<void>;
  aggregate(q: UsageQuery): Promise<UsageAggregate[]>;
}

const GROUP_SQL: Record<UsageGroupBy, string> = {
  model: 'model',
  key: 'key_id',
  day: `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

interface AggRow {
  grp?: string | null;
  requests: string | number;
  errors: string | number;
  cache_hits: string | number;
  prompt_tokens: string | number | null;
  completion_tokens: string | number | null;
  avg_latency_ms: number | null;
  avg_ttft_ms: number | null;
}

const COLS = 12;

export function createUsageRepository(db: Queryable): UsageRepository {
  return {
    async insertMany(rows) {
      if (rows.length === 0) return;
      const values: unknown[] = [];
      const tuples: string[] = [];
      rows.forEach((r, i) => {
        const b = i * COLS;
        tuples.push(`(${Array.from({ length: COLS }, (_, j) => `$${b + j + 1}`).join(', ')})`);
        values.push(
          new Date(r.at).toISOString(),
          r.keyId ?? null,
          r.surface,
          r.model,
          r.upstream ?? null,
          r.status,
          r.promptTokens,
          r.completionTokens,
          r.latencyMs,
          r.ttftMs ?? null,
          r.cache ?? null,
          r.requestId,
        );
      });
      await db.query(
        `INSERT INTO usage_log (at, key_id, surface, model, upstream, status, prompt_tokens,
           completion_tokens, latency_ms, ttft_ms, cache, request_id) VALUES ${tuples.join(', ')}`,
        values,
      );
    },
    async aggregate(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.keyId !== undefined) where.push(`key_id = $${params.push(q.keyId)}`);
      if (q.since !== undefined) where.push(`at >= $${params.push(new Date(q.since).toISOString())}`);
      if (q.until !== undefined) where.push(`at < $${params.push(new Date(q.until).toISOString())}`);
      const group = q.groupBy === undefined ? undefined : GROUP_SQL[q.groupBy];
      const rows = await db.query<AggRow>(
        `SELECT ${group ? `${group} AS grp, ` : ''}count(*) AS requests,
           count(*) FILTER (WHERE status >= 400) AS errors,
           count(*) FILTER (WHERE cache LIKE 'hit%') AS cache_hits,
           sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
           avg(latency_ms)::float8 AS avg_latency_ms, avg(ttft_ms)::float8 AS avg_ttft_ms
         FROM usage_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ${group ? `GROUP BY 1 ORDER BY 1` : ''}`,
        params,
      );
      return rows.map((r) => ({
        ...(group ? { group: r.grp ?? null } : {}),
        requests: Number(r.requests),
        errors: Number(r.errors),
        cacheHits: Number(r.cache_hits),
        promptTokens: Number(r.prompt_tokens ?? 0),
        completionTokens: Number(r.completion_tokens ?? 0),
        avgLatencyMs: Math.round((r.avg_latency_ms ?? 0) * 100) / 100,
        avgTtftMs: r.avg_ttft_ms === null ? null : Math.round(r.avg_ttft_ms * 100) / 100,
      }));
    },
  };
}
