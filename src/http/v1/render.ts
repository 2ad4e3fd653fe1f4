import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayError } from '../../errors/catalogue.js';
import { errorHeaders, toGatewayError } from '../errors.js';

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
export function v1ErrorHandler(this: unknown, error: unknown, req: FastifyRequest, reply: FastifyReply) {
  const err = toGatewayError(error);
  if (err.status >= 500) req.log.error({ err: error, code: err.code }, 'request failed');
  else req.log.info({ code: err.code, msg: err.message }, 'request rejected');
  void reply
    .code(err.status)
    .headers(errorHeaders(err))
    .type('application/json; charset=utf-8')
    .send(v1ErrorBody(err, req.id));
}

/** One SSE event. Data is one JSON line, so tokens containing newlines cannot break framing. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
