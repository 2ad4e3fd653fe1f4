import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/config.js';
import { GatewayError, errors } from '../../errors/catalogue.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { findModel } from '../../pipeline/models.js';
import { collect } from '../../pipeline/stream.js';
import { requestContext } from '../context.js';
import { openAIErrorHandler } from './errors.js';
import { mapChatRequest } from './map-chat-request.js';
import { chatCompletionBody, createChatStreamMapper, type ResponseMeta } from './map-chat-response.js';
import { mapCompletionRequest, mapEmbeddingRequest } from './map-request.js';
import {
  completionBody,
  createCompletionStreamMapper,
  embeddingBody,
  modelList,
  modelObject,
} from './map-response.js';
import { writeGeneration } from '../stream/writer.js';
import { openaiStream } from './stream.js';

export interface OpenAIRoutesOptions {
  pipeline: Pipeline;
  config: Config;
}

const meta = (prefix: string, model: string): ResponseMeta => ({
  id: `${prefix}-${randomUUID()}`,
  created: Math.floor(Date.now() / 1000),
  model,
});

/**
 * The OpenAI-compatible surface under `/v1`: chat completions, completions, embeddings, models.
 * Encapsulated: its error and not-found handlers answer in OpenAI's envelope.
 */
export const openaiRoutes: FastifyPluginAsync<OpenAIRoutesOptions> = async (app, opts) => {
  await app.register((v1: FastifyInstance) => routes(v1, opts), { prefix: '/v1' });
};

async function routes(app: FastifyInstance, { pipeline, config }: OpenAIRoutesOptions): Promise<void> {
  // Generation bodies carry base64 images: their own, larger limit (SUTAZAI_LLM_BODY_LIMIT).
  const llm = { bodyLimit: config.llmBodyLimit };
  app.setErrorHandler(openAIErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    openAIErrorHandler(
      new GatewayError('SUTAZAI_ERR_NOT_FOUND', `route ${req.method} ${path} not found`),
      req,
      reply,
    );
  });

  app.post('/chat/completions', llm, async (req, reply) => {
    const { request, includeUsage } = mapChatRequest(req.body);
    const ctx = requestContext(req, reply, 'openai');
    // Errors before the first chunk are thrown here and rendered with their status.
    const result = await pipeline.generate(request, ctx);
    const m = meta('chatcmpl', result.model);
    if (!request.stream) {
      const body = chatCompletionBody(m, await collect(result.chunks));
      void reply.header('x-sutazai-cache', result.cache);
      return body;
    }
    const mapper = createChatStreamMapper(m, includeUsage);
    await writeGeneration(
      req,
      reply,
      ctx,
      result,
      openaiStream({ start: [mapper.start()], map: mapper.map, end: mapper.end }),
    );
    return reply;
  });

  app.post('/completions', llm, async (req, reply) => {
    const { request, includeUsage } = mapCompletionRequest(req.body);
    const ctx = requestContext(req, reply, 'openai');
    const result = await pipeline.generate(request, ctx);
    const m = meta('cmpl', result.model);
    if (!request.stream) {
      const body = completionBody(m, await collect(result.chunks));
      void reply.header('x-sutazai-cache', result.cache);
      return body;
    }
    const mapper = createCompletionStreamMapper(m, includeUsage);
    await writeGeneration(
      req,
      reply,
      ctx,
      result,
      openaiStream({ start: [], map: mapper.map, end: mapper.end }),
    );
    return reply;
  });

  app.post('/embeddings', async (req, reply) => {
    const { request, encoding } = mapEmbeddingRequest(req.body);
    const outcome = await pipeline.embed(request, requestContext(req, reply, 'openai'));
    void reply.header('x-sutazai-cache', outcome.cache);
    return embeddingBody(outcome.result, encoding, request.model);
  });

  app.get('/models', async () => modelList(await pipeline.listModels()));

  // Model ids may contain "/" (namespace/model:tag), hence the wildcard.
  app.get<{ Params: { '*': string } }>('/models/*', async (req) => {
    const id = req.params['*'];
    const found = findModel(await pipeline.listModels(), id);
    if (!found) throw errors.modelNotFound(id);
    return modelObject(found);
  });
}
