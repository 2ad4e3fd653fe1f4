import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors/catalogue.js';
import { zodToGatewayError } from '../errors/validation.js';

/** Fastify's own error codes → our catalogue (body parsing, limits, routing). */
const FASTIFY_CODES: Record<string, (e: FastifyError) => GatewayError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: (e) =>
    new GatewayError('SUTAZAI_ERR_INVALID_JSON', `invalid JSON body: ${e.message}`),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new GatewayError(
      'SUTAZAI_ERR_INVALID_JSON',
      'request body is empty but content-type is application/json',
    ),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new GatewayError('SUTAZAI_ERR_BODY_TOO_LARGE', 'request body is too large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new GatewayError('SUTAZAI_ERR_UNSUPPORTED_MEDIA_TYPE', e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => new GatewayError('SUTAZAI_ERR_BAD_REQUEST', e.message),
  FST_ERR_VALIDATION: (e) => new GatewayError('SUTAZAI_ERR_VALIDATION', e.message),
};

/** Normalise anything thrown in a handler into a GatewayError. Unknown errors become 500. */
export function toGatewayError(err: unknown, req?: FastifyRequest): GatewayError {
  if (isGatewayError(err)) return err;
  const limit = req?.routeOptions.bodyLimit;
  if ((err as Partial<FastifyError>).code === 'FST_ERR_CTP_BODY_TOO_LARGE' && limit !== undefined) {
    const bytes = req?.headers['content-length'];
    return new GatewayError(
      'SUTAZAI_ERR_BODY_TOO_LARGE',
      `request body is too large: ${bytes !== undefined ? `${bytes} bytes, ` : ''}at most ${limit} on ${req?.method ?? ''} ${req?.routeOptions.url ?? ''}`,
    );
  }
  if (err instanceof z.ZodError) return zodToGatewayError(err);
  const fe = err as Partial<FastifyError>;
  if (typeof fe.code === 'string') {
    const map = FASTIFY_CODES[fe.code];
    if (map) return map(fe as FastifyError);
  }
  if (err instanceof SyntaxError)
    return new GatewayError('SUTAZAI_ERR_INVALID_JSON', `invalid JSON body: ${err.message}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new GatewayError('SUTAZAI_ERR_BAD_REQUEST', fe.message ?? 'bad request');
  }
  return new GatewayError('SUTAZAI_ERR_INTERNAL', 'internal server error', { cause: err });
}

/**
 * Headers every error response carries (Retry-After on 429/503). Retry-After holds whole seconds
 * (RFC 9110 delay-seconds), so a fractional wait also goes out as `retry-after-ms`, which the
 * OpenAI clients prefer (docs/protocols.md D.2): clients told 4.2 s and 4.9 s then do not all
 * come back in the same instant.
 */
export function errorHeaders(err: GatewayError): Record<string, string> {
  const h: Record<string, string> = err.headers === undefined ? {} : { ...err.headers };
  const s = err.retryAfter;
  if (s === undefined) return h;
  h['retry-after'] = String(Math.max(1, Math.ceil(s)));
  const ms = Math.max(1, Math.round(s * 1000));
  if (ms % 1000 !== 0) h['retry-after-ms'] = String(ms);
  return h;
}

/**
 * A surface's Fastify error handler: normalise, log (5xx at error, 4xx at info), set the status and
 * Retry-After, and send the body that surface's envelope makes. Also receives Fastify's own
 * body-parsing errors, so those come out in the surface's envelope too.
 */
export function surfaceErrorHandler(
  body: (err: GatewayError, req: FastifyRequest) => unknown,
): (error: unknown, req: FastifyRequest, reply: FastifyReply) => void {
  return (error, req, reply) => {
    const err = toGatewayError(error, req);
    // Shedding load is the gateway working as designed: no stack trace per rejected request.
    if (err.status >= 500 && err.code !== 'SUTAZAI_ERR_OVERLOADED')
      req.log.error({ err: error, code: err.code }, 'request failed');
    else req.log.info({ code: err.code, error: err.message }, 'request rejected');
    void reply
      .code(err.status)
      .headers(errorHeaders(err))
      .type('application/json; charset=utf-8')
      .send(body(err, req));
  };
}
