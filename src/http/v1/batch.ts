import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { answer, generateRequest, mapLimit } from '../../pipeline/requests.js';
import { requestContext } from '../context.js';
import { parseBody } from '../../errors/validation.js';
import { toGatewayError } from '../errors.js';
import { batchBody } from './schemas.js';

export interface V1BatchDeps {
  config: Config;
  pipeline: Pipeline;
}

/** POST /api/v1/batch: many prompts, results in input order, each with its own error. */
export async function v1BatchRoutes(app: FastifyInstance, deps: V1BatchDeps) {
  const { config, pipeline } = deps;
  const schema = batchBody(config.batchMaxItems);

  app.post('/api/v1/batch', async (req, reply) => {
    const started = performance.now();
    // The seed accepted a bare array of prompts; keep accepting it.
    const raw = Array.isArray(req.body) ? { prompts: req.body as unknown[] } : req.body;
    const body = parseBody(schema, raw);
    const ctx = requestContext(req, reply, 'v1');
    const mode = { priority: 'batch', useCache: body.use_cache !== false } as const;
    const results = await mapLimit(body.prompts, config.batchConcurrency, async (prompt, index) => {
      try {
        const { answer: a, cache } = await answer(
          pipeline,
          generateRequest({ ...body, prompt }, config, mode),
          ctx,
        );
        const cached = cache === 'hit-l1' || cache === 'hit-l2';
        return {
          index,
          response: a.response,
          model: a.model,
          cached,
          finish_reason: a.finish_reason,
          usage: a.usage,
        };
      } catch (error) {
        const err = toGatewayError(error);
        return { index, error: { code: err.code, message: err.publicMessage, status: err.status } };
      }
    });
    const failed = results.filter((r) => 'error' in r).length;
    // A batch where every item failed is a failed request, not a 200 carrying errors.
    const first = results[0];
    if (failed === results.length && first?.error) void reply.code(first.error.status);
    return {
      results,
      total: results.length,
      succeeded: results.length - failed,
      failed,
      latency_ms: Math.round((performance.now() - started) * 100) / 100,
    };
  });
}
