import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { GatewayError } from '../../errors/catalogue.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import { requestContext } from '../context.js';
import { writeGeneration } from '../stream/writer.js';
import { anthropicErrorHandler } from './errors.js';
import { mapMessagesRequest } from './map-request.js';
import { messageBody, messageId } from './map-response.js';
import { anthropicStream } from './stream.js';

export interface AnthropicRoutesOptions {
  pipeline: Pipeline;
}

/**
 * The Anthropic Messages surface: `POST /v1/messages`. Its own scope under `/v1/messages`, so
 * errors and unknown paths or methods there answer in Anthropic's envelope. `x-api-key` and
 * `anthropic-version` are accepted (auth, once it exists, reads the key; no version is required).
 */
export const anthropicRoutes: FastifyPluginAsync<AnthropicRoutesOptions> = async (app, opts) => {
  await app.register((scope: FastifyInstance) => routes(scope, opts), { prefix: '/v1/messages' });
};

async function routes(app: FastifyInstance, { pipeline }: AnthropicRoutesOptions): Promise<void> {
  app.setErrorHandler(anthropicErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    anthropicErrorHandler(
      new GatewayError('SUTAZAI_ERR_NOT_FOUND', `route ${req.method} ${path} not found`),
      req,
      reply,
    );
  });
  // Anthropic's SDK reads the request id from `request-id` (into errors and `_request_id`).
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('request-id', req.id);
    done();
  });

  // Token counting needs the model's tokenizer, which local servers do not expose uniformly.
  app.post('/count_tokens', () => {
    throw new GatewayError(
      'SUTAZAI_ERR_NOT_FOUND',
      'POST /v1/messages/count_tokens is not supported: this gateway has no tokenizer for its models; usage in each answer reports input_tokens',
    );
  });

  app.post('', async (req, reply) => {
    const { request, thinking, singleToolUse } = mapMessagesRequest(req.body);
    const ctx = requestContext(req, reply, 'anthropic');
    // Errors before the first chunk are thrown here and rendered with their status.
    const result = await pipeline.generate(request, ctx);
    const meta = { id: messageId(), model: result.model, thinking, singleToolUse };
    if (!request.stream) {
      const body = messageBody(meta, await collect(result.chunks));
      void reply.header('x-sutazai-cache', result.cache);
      return body;
    }
    await writeGeneration(req, reply, ctx, result, anthropicStream(meta));
    return reply;
  });
}
