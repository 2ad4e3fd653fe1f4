import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import type { GenerateRequest } from '../../pipeline/types.js';
import { requestContext } from '../context.js';
import { parseBody } from '../../errors/validation.js';
import { toGatewayError } from '../errors.js';
import { toGenerationOptions } from '../../pipeline/options.js';
import { batchBody } from './schemas.js';

export interface V1BatchDeps {
  config: Config;
  pipeline: Pipeline;
}

/** Run `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
) {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
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
    const options = toGenerationOptions(body.options, config);
    const model = body.model ?? config.defaultModel;
    const results = await mapLimit(body.prompts, config.batchConcurrency, async (prompt, index) => {
      const r: GenerateRequest = {
        kind: 'generate',
        model,
        prompt,
        ...(body.system !== undefined ? { system: body.system } : {}),
        options,
        stream: false,
        priority: 'interactive',
        cache: { use: body.use_cache !== false },
      };
      try {
        const res = await pipeline.generate(r, ctx);
        const out = await collect(res.chunks);
        return {
          index,
          response: out.text,
          model,
          cached: res.cache === 'hit-l1' || res.cache === 'hit-l2',
          finish_reason: out.finishReason,
          usage: { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens },
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
