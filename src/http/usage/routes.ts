import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../errors/catalogue.js';
import { parseBody } from '../../errors/validation.js';
import type { UsageRepository } from '../../store/usage.js';
import type { UsageRecorder } from '../../usage/recorder.js';

const when = z.union([
  z.coerce.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.iso.date().transform((s) => Date.parse(`${s}T00:00:00Z`)),
]);

const query = z.strictObject({
  key: z.string().min(1).max(64).optional(),
  since: when.optional(),
  until: when.optional(),
  group_by: z.enum(['model', 'key', 'day']).optional(),
});

/**
 * GET /api/v1/usage?key=&since=&until=&group_by=model|key|day — totals from the usage log. The
 * admin key (or anyone while keys are off) sees every key; any other key sees only its own.
 */
export function usageRoutes(deps: { repo: UsageRepository; recorder: UsageRecorder }): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/usage', async (req) => {
      const q = parseBody(query, req.query ?? {});
      const p = req.sutazaiPrincipal;
      let key = q.key;
      if (p !== null && !p.admin) {
        if (key !== undefined && key !== p.keyId)
          throw new GatewayError('SUTAZAI_ERR_FORBIDDEN', 'an API key may read only its own usage', {
            param: 'key',
          });
        key = p.keyId;
      }
      // This process's buffered rows first, so a caller sees its own requests.
      await deps.recorder.flush();
      const rows = await deps.repo
        .aggregate({
          ...(key !== undefined ? { keyId: key } : {}),
          ...(q.since !== undefined ? { since: q.since } : {}),
          ...(q.until !== undefined ? { until: q.until } : {}),
          ...(q.group_by !== undefined ? { groupBy: q.group_by } : {}),
        })
        .catch((err: unknown) => {
          throw new GatewayError('SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE', 'the usage store is unreachable', {
            cause: err,
            retryAfter: 5,
          });
        });
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
      return {
        key: key ?? null,
        since: iso(q.since),
        until: iso(q.until),
        group_by: q.group_by ?? null,
        rows: rows.map((r) => ({
          ...(q.group_by !== undefined ? { [q.group_by]: r.group ?? null } : {}),
          requests: r.requests,
          errors: r.errors,
          cache_hits: r.cacheHits,
          prompt_tokens: r.promptTokens,
          completion_tokens: r.completionTokens,
          avg_latency_ms: r.avgLatencyMs,
          avg_ttft_ms: r.avgTtftMs,
        })),
      };
    });
  };
}
