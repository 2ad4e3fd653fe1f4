import type { GatewayError } from '../../errors/catalogue.js';
import { surfaceErrorHandler } from '../errors.js';

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

/** One SSE event. Data is one JSON line, so tokens containing newlines cannot break framing. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
