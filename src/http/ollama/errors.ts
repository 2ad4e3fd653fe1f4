import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayError } from '../../errors/catalogue.js';
import { errorHeaders, toGatewayError } from '../errors.js';

/** The Ollama surface's one error renderer: `{"error":"<message>"}` (protocols.md A.10). */

export const ollamaErrorBody = (e: GatewayError): { error: string } => ({ error: e.publicMessage });

/** Fastify error handler for the Ollama surface (also gets Fastify's own body-parsing errors). */
export function ollamaErrorHandler(error: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const err = toGatewayError(error);
  if (err.status >= 500) req.log.error({ err: error, code: err.code }, 'request failed');
  else req.log.info({ code: err.code, msg: err.message }, 'request rejected');
  void reply
    .code(err.status)
    .headers(errorHeaders(err))
    .type('application/json; charset=utf-8')
    .send(ollamaErrorBody(err));
}
