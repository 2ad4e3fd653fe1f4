import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import type { ChatMessage, ChatRequest } from '../../pipeline/types.js';
import { requestContext } from '../context.js';
import { parseBody } from '../../errors/validation.js';
import { writeGeneration } from '../stream/writer.js';
import { chatRequest } from '../../pipeline/requests.js';
import { chatBody, type ChatBody } from './schemas.js';
import { v1ChatStream } from './render.js';

export interface V1ChatDeps {
  config: Config;
  pipeline: Pipeline;
}

export function toChatRequest(body: ChatBody, cfg: Config, stream: boolean): ChatRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) messages.push({ role: 'system', content: body.system });
  messages.push({ role: 'user', content: body.message });
  return chatRequest({ messages, model: body.model, options: body.options }, cfg, {
    priority: 'interactive',
    useCache: body.use_cache !== false,
    stream,
  });
}

const isHit = (c: string) => c === 'hit-l1' || c === 'hit-l2';

/** POST /api/v1/chat and /api/v1/chat/stream. */
export async function v1ChatRoutes(app: FastifyInstance, deps: V1ChatDeps) {
  const { config, pipeline } = deps;

  app.post('/api/v1/chat', async (req, reply) => {
    const started = performance.now();
    const body = parseBody(chatBody, req.body);
    const r = toChatRequest(body, config, false);
    const result = await pipeline.generate(r, requestContext(req, reply, 'v1'));
    const out = await collect(result.chunks);
    void reply.header('x-sutazai-cache', result.cache).header('x-sutazai-upstream', result.upstream);
    return {
      response: out.text,
      model: result.model,
      cached: isHit(result.cache),
      finish_reason: out.finishReason,
      usage: { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens },
      latency_ms: Math.round((performance.now() - started) * 100) / 100,
    };
  });

  app.post('/api/v1/chat/stream', async (req, reply) => {
    const started = performance.now();
    const body = parseBody(chatBody, req.body);
    const r = toChatRequest(body, config, true);
    const ctx = requestContext(req, reply, 'v1');
    // Errors before the first token are thrown here and rendered with a proper status.
    const result = await pipeline.generate(r, ctx);
    await writeGeneration(
      req,
      reply,
      ctx,
      result,
      v1ChatStream(result.model, isHit(result.cache), started, req.id),
      { 'x-request-id': req.id, 'x-sutazai-upstream': result.upstream },
    );
  });
}
