import type { GatewayError } from '../../errors/catalogue.js';
import { surfaceErrorHandler } from '../errors.js';

/**
 * The Anthropic surface's error envelope, `{type:"error",error:{type,message}}`, with Anthropic's
 * error type for each status (docs/protocols.md G.4), so its SDK raises the matching error class.
 */

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

export function anthropicErrorBody(e: GatewayError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(e.status), message: e.publicMessage } };
}

/** The handler's body also carries `request_id` (the `request-id` header's value), as Anthropic's does. */
export const anthropicErrorHandler = surfaceErrorHandler((e, req) => ({
  ...anthropicErrorBody(e),
  request_id: req.id,
}));
