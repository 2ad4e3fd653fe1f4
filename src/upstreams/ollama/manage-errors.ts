import { GatewayError, errors } from '../../errors/catalogue.js';

/** A management call that never got an answer: aborted by the client, timed out, or unreachable. */
export function mapNetworkError(upstream: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { name?: string; code?: string };
  if (e.name === 'TimeoutError') return errors.upstreamTimeout(upstream, 'total');
  if (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED')
    return new GatewayError('SUTAZAI_ERR_CLIENT_CLOSED', 'client closed the request');
  return errors.upstreamUnavailable(upstream, err);
}
