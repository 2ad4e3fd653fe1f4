import type { GatewayError } from '../../errors/catalogue.js';
import { surfaceErrorHandler } from '../errors.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../stream/frames.js';
import type { StreamRenderer } from '../stream/writer.js';

/** The SutazAI v1 error envelope: `{error:{code, message, param?, request_id}}`. */
export function v1ErrorBody(err: GatewayError, requestId: string) {
  return {
    error: {
      code: err.code,
      message: err.publicMessage,
      ...(err.param !== undefined ? { param: err.param } : {}),
      request_id: requestId,
    },
  };
}

/** Fastify error handler for the v1 surface (also catches body-parser errors). */
export const v1ErrorHandler = surfaceErrorHandler((err, req) => v1ErrorBody(err, req.id));

/**
 * The v1 stream (/api/v1/chat/stream): named SSE events `token`, `tool_calls`, `done` (with usage
 * and latency since `started`), or `error` in the v1 envelope if it fails part-way.
 */
export function v1ChatStream(
  model: string,
  cached: boolean,
  started: number,
  requestId: string,
): StreamRenderer {
  return {
    contentType: SSE_CONTENT_TYPE,
    start: () => '',
    chunk(c) {
      if (c.type === 'delta') return c.text ? sseEvent('token', { text: c.text }) : '';
      if (c.type === 'tool_calls') return sseEvent('tool_calls', { tool_calls: c.calls });
      return sseEvent('done', {
        model,
        cached,
        finish_reason: c.finishReason,
        usage: { prompt_tokens: c.usage.promptTokens, completion_tokens: c.usage.completionTokens },
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    },
    end: () => '',
    error: (err) => sseEvent('error', v1ErrorBody(err, requestId)),
  };
}
