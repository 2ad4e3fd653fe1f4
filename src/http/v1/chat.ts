import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import type { ChatMessage, ChatRequest } from '../../pipeline/types.js';
import { requestContext } from '../context.js';
import { parseBody, toGatewayError } from '../errors.js';
import { openRawStream } from '../raw-stream.js';
import { chatBody, toGenerationOptions, type ChatBody } from './schemas.js';
import { sseEvent, v1ErrorBody } from './render.js';

export interface V1ChatDeps {
  config: Config;
  pipeline: Pipeline;
}

export function toChatRequest(body: ChatBody, cfg: Config, stream: boolean): ChatRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) messages.push({ role: 'system', content: body.system });
  messages.push({ role: 'user', content: body.message });
  return {
    kind: 'chat',
    model: body.model ?? cfg.defaultModel,
    messages,
    options: toGenerationOptions(body.options, cfg),
    stream,
    priority: 'interactive',
    cache: { use: body.use_cache !== false },
  };
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
    const out = openRawStream(reply, 'text/event-stream; charset=utf-8', {
      headers: {
        'x-request-id': req.id,
        'x-sutazai-cache': result.cache,
        'x-sutazai-upstream': result.upstream,
      },
      flushHeaders: false,
    });
    const cached = isHit(result.cache);
    try {
      for await (const c of result.chunks) {
        if (out.closed) break;
        if (c.type === 'delta') {
          if (c.text) await out.write(sseEvent('token', { text: c.text }));
        } else if (c.type === 'tool_calls') {
          await out.write(sseEvent('tool_calls', { tool_calls: c.calls }));
        } else {
          await out.write(
            sseEvent('done', {
              model: result.model,
              cached,
              finish_reason: c.finishReason,
              usage: { prompt_tokens: c.usage.promptTokens, completion_tokens: c.usage.completionTokens },
              latency_ms: Math.round((performance.now() - started) * 100) / 100,
            }),
          );
        }
      }
    } catch (error) {
      const err = toGatewayError(error);
      if (!ctx.signal.aborted) req.log.warn({ code: err.code, error: err.message }, 'stream failed mid-way');
      await out.write(sseEvent('error', v1ErrorBody(err, req.id)));
    } finally {
      out.end();
    }
  });
}
