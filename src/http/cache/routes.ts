import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { CacheClearError, type ResponseCache } from '../../cache/service.js';
import { GatewayError } from '../../errors/catalogue.js';
import { zodToGatewayError } from '../../errors/validation.js';

export interface CacheRoutesOptions {
  cache: ResponseCache;
  /**
   * Runs before both routes: the place for admin authentication once API keys exist
   * (throw a 401/403 GatewayError). Default: none (the routes are open).
   */
  preHandler?: preHandlerAsyncHookHandler;
}

const clearBody = z
  .strictObject({
    pattern: z
      .string()
      .min(1, 'must be a non-empty string (omit it to clear everything)')
      .max(256)
      .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters')
      .optional(),
  })
  .optional();

/** GET /api/v1/cache/stats and POST /api/v1/cache/clear `{pattern?}`. */
export async function cacheRoutes(app: FastifyInstance, opts: CacheRoutesOptions): Promise<void> {
  const { cache } = opts;
  const hooks = opts.preHandler ? { preHandler: opts.preHandler } : {};

  app.get('/api/v1/cache/stats', hooks, async () => cache.stats());

  app.post('/api/v1/cache/clear', { ...hooks, config: { admin: true } }, async (req) => {
    const parsed = clearBody.safeParse(req.body ?? undefined);
    if (!parsed.success) throw zodToGatewayError(parsed.error);
    const pattern = parsed.data?.pattern;
    try {
      const r = await cache.clear(pattern);
      return { ...r, pattern: pattern ?? null };
    } catch (err) {
      if (err instanceof CacheClearError) {
        throw new GatewayError('SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE', err.message, {
          cause: err,
          retryAfter: 5,
        });
      }
      throw err;
    }
  });
}
