import type { ErrorCode, GatewayError } from '../../errors/catalogue.js';
import { surfaceErrorHandler } from '../errors.js';

/** The OpenAI surface's one error renderer: `{error:{message,type,param,code}}` (docs/protocols.md C.7). */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Where OpenAI has its own well-known code, clients test for it; elsewhere our stable code is sent. */
const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  SUTAZAI_ERR_MODEL_NOT_FOUND: 'model_not_found',
  SUTAZAI_ERR_RATE_LIMITED: 'rate_limit_exceeded',
  SUTAZAI_ERR_UNAUTHORIZED: 'invalid_api_key',
};

export function openAIErrorBody(e: GatewayError): OpenAIErrorBody {
  return {
    error: {
      message: e.publicMessage,
      type: e.type,
      param: e.param ?? null,
      code: OPENAI_CODES[e.code] ?? e.code,
    },
  };
}

/** Fastify error handler for the OpenAI surface (also gets Fastify's own body-parsing errors). */
export const openAIErrorHandler = surfaceErrorHandler(openAIErrorBody);
