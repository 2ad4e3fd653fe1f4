import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { GatewayError } from '../../errors/catalogue.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import { requestContext } from '../context.js';
import { openAIErrorHandler } from '../openai/errors.js';
import { writeGeneration } from '../stream/writer.js';
import { mapResponsesRequest } from './map-request.js';
import { responseBody, responseId } from './map-response.js';
import { responsesStream } from './stream.js';

export interface ResponsesRoutesOptions {
  pipeline: Pipeline;
}

/**
 * The OpenAI Responses surface: `POST /v1/responses`, in its own scope under `/v1/responses` (errors
 * and unknown paths/methods there in OpenAI's envelope). Responses are not stored, so retrieval by
 * id and `previous_response_id` are not offered.
 */
export const responsesRoutes: FastifyPluginAsync<ResponsesRoutesOptions> = async (app, opts) => {
  await app.register((scope: FastifyInstance) => routes(scope, opts), { prefix: '/v1/responses' });
};

async function routes(app: FastifyInstance, { pipeline }: ResponsesRoutesOptions): Promise<void> {
  app.setErrorHandler(openAIErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    openAIErrorHandler(
      new GatewayError(
        'SUTAZAI_ERR_NOT_FOUND',
        `route ${req.method} ${path} not found (responses are not stored)`,
      ),
      req,
      reply,
    );
  });

  app.post('', async (req, reply) => {
    const { request, body } = mapResponsesRequest(req.body);
    const ctx = requestContext(req, reply, 'responses');
    const result = await pipeline.generate(request, ctx);
    const meta = { id: responseId(), createdAt: Math.floor(Date.now() / 1000), model: result.model, body };
    if (!request.stream) {
      const out = responseBody(meta, await collect(result.chunks));
      void reply.header('x-sutazai-cache', result.cache);
      return out;
    }
    await writeGeneration(req, reply, ctx, result, responsesStream(meta));
    return reply;
  });
}
