import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../pipeline/pipeline.js';
import type { Caller } from '../pipeline/types.js';

/**
 * Build the pipeline context for one HTTP request. Its signal aborts when the client goes away
 * before the response has been fully written, which cancels the upstream request.
 */
export function requestContext(
  req: FastifyRequest,
  reply: FastifyReply,
  surface: Caller['surface'],
): RequestContext {
  const ac = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) ac.abort(new Error('client disconnected'));
  };
  res.once('close', onClose);
  const cc = req.headers['cache-control'];
  return {
    caller: { requestId: req.id, surface },
    signal: ac.signal,
    ...(cc !== undefined ? { cacheControl: cc } : {}),
  };
}
