/**
 * Every error the gateway returns, by stable code. Surfaces render these in their own envelope
 * (SutazAI JSON, OpenAI {error:{...}}, Ollama {error:"..."}); the status comes from here only.
 * Documented in docs/errors.md.
 */
export const ERRORS = {
  SUTAZAI_ERR_BAD_REQUEST: { status: 400, type: 'invalid_request_error' },
  SUTAZAI_ERR_INVALID_JSON: { status: 400, type: 'invalid_request_error' },
  SUTAZAI_ERR_VALIDATION: { status: 400, type: 'invalid_request_error' },
  SUTAZAI_ERR_UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  SUTAZAI_ERR_FORBIDDEN: { status: 403, type: 'permission_error' },
  // [reliab] browser origin and Host checks (src/http/origin-guard.ts)
  SUTAZAI_ERR_ORIGIN_NOT_ALLOWED: { status: 403, type: 'permission_error' },
  SUTAZAI_ERR_HOST_NOT_ALLOWED: { status: 403, type: 'permission_error' },
  SUTAZAI_ERR_NOT_FOUND: { status: 404, type: 'not_found_error' },
  SUTAZAI_ERR_MODEL_NOT_FOUND: { status: 404, type: 'not_found_error' },
  SUTAZAI_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  SUTAZAI_ERR_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  SUTAZAI_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error' },
  SUTAZAI_ERR_RATE_LIMITED: { status: 429, type: 'rate_limit_error' },
  SUTAZAI_ERR_CLIENT_CLOSED: { status: 499, type: 'api_error' },
  SUTAZAI_ERR_INTERNAL: { status: 500, type: 'api_error' },
  SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, type: 'api_error' },
  SUTAZAI_ERR_UPSTREAM_ERROR: { status: 502, type: 'api_error' },
  SUTAZAI_ERR_UPSTREAM_UNAVAILABLE: { status: 503, type: 'api_error' },
  SUTAZAI_ERR_UPSTREAM_BUSY: { status: 503, type: 'api_error' },
  SUTAZAI_ERR_OVERLOADED: { status: 503, type: 'api_error' },
  SUTAZAI_ERR_SHUTTING_DOWN: { status: 503, type: 'api_error' },
  SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE: { status: 503, type: 'api_error' },
  SUTAZAI_ERR_UPSTREAM_TIMEOUT: { status: 504, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface GatewayErrorInit {
  /** Name of the offending request field, e.g. "messages[0].content". */
  param?: string;
  /** Seconds; sent as Retry-After on 429/503. */
  retryAfter?: number;
  /** Upstream id involved, for logs and metrics. */
  upstream?: string;
  /** Extra response headers (e.g. x-ratelimit-* on a 429). */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

/** The one error type that crosses module boundaries. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param?: string;
  readonly retryAfter?: number;
  readonly upstream?: string;
  readonly headers?: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, init: GatewayErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.type = ERRORS[code].type;
    if (init.param !== undefined) this.param = init.param;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.upstream !== undefined) this.upstream = init.upstream;
    if (init.headers !== undefined) this.headers = init.headers;
  }

  /** Message safe to show to clients: 5xx internals are hidden except for upstream-facing codes. */
  get publicMessage(): string {
    return this.code === 'SUTAZAI_ERR_INTERNAL' ? 'internal server error' : this.message;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** Convenience constructors for the common cases. */
export const errors = {
  validation: (message: string, param?: string) =>
    new GatewayError('SUTAZAI_ERR_VALIDATION', message, param === undefined ? {} : { param }),
  modelNotFound: (model: string) =>
    new GatewayError('SUTAZAI_ERR_MODEL_NOT_FOUND', `model '${model}' not found`, { param: 'model' }),
  upstreamUnavailable: (upstream: string, cause?: unknown) =>
    new GatewayError('SUTAZAI_ERR_UPSTREAM_UNAVAILABLE', `upstream '${upstream}' is unreachable`, {
      upstream,
      retryAfter: 5,
      cause,
    }),
  upstreamTimeout: (upstream: string, what: string) =>
    new GatewayError('SUTAZAI_ERR_UPSTREAM_TIMEOUT', `upstream '${upstream}' timed out (${what})`, {
      upstream,
    }),
  upstreamBusy: (upstream: string, retryAfter = 1) =>
    new GatewayError('SUTAZAI_ERR_UPSTREAM_BUSY', `upstream '${upstream}' is busy, retry later`, {
      upstream,
      retryAfter,
    }),
  upstreamBadResponse: (upstream: string, detail: string) =>
    new GatewayError(
      'SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE',
      `upstream '${upstream}' sent a bad response: ${detail}`,
      {
        upstream,
      },
    ),
  upstreamError: (upstream: string, detail: string) =>
    new GatewayError('SUTAZAI_ERR_UPSTREAM_ERROR', `upstream '${upstream}' failed: ${detail}`, { upstream }),
  internal: (cause?: unknown) => new GatewayError('SUTAZAI_ERR_INTERNAL', 'internal server error', { cause }),
};
