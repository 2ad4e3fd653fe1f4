import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, errors, isGatewayError } from '../errors/catalogue.js';

/**
 * Translation of upstream failures (HTTP status, network error, timeout, abort) into the gateway's
 * error catalogue. Every adapter goes through here so both protocols map failures identically.
 */

type NetworkKind = 'unavailable' | 'connect-timeout' | 'headers-timeout' | 'idle-timeout';

/** Node/undici error code → what it means for the caller. Codes not listed are upstream errors. */
const NETWORK_CODES: Readonly<Record<string, NetworkKind>> = {
  ECONNREFUSED: 'unavailable',
  ECONNRESET: 'unavailable',
  ECONNABORTED: 'unavailable',
  EPIPE: 'unavailable',
  ENOTFOUND: 'unavailable',
  EAI_AGAIN: 'unavailable',
  EHOSTUNREACH: 'unavailable',
  ENETUNREACH: 'unavailable',
  EADDRNOTAVAIL: 'unavailable',
  UND_ERR_SOCKET: 'unavailable',
  UND_ERR_CLOSED: 'unavailable',
  UND_ERR_DESTROYED: 'unavailable',
  ETIMEDOUT: 'connect-timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect-timeout',
  UND_ERR_HEADERS_TIMEOUT: 'headers-timeout',
  UND_ERR_BODY_TIMEOUT: 'idle-timeout',
};

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects fail with an AggregateError whose members carry the code.
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return undefined;
}

/**
 * Map an error thrown while talking to an upstream. `responseStarted` = headers were received; a
 * connection lost after that is a failed response (502), not an unreachable upstream (503).
 */
export function mapNetworkError(upstream: string, err: unknown, responseStarted: boolean): GatewayError {
  if (isGatewayError(err)) return err;
  const code = errorCode(err);
  const kind = code === undefined ? undefined : NETWORK_CODES[code];
  switch (kind) {
    case 'connect-timeout':
      return errors.upstreamTimeout(upstream, 'connect');
    case 'headers-timeout':
      return errors.upstreamTimeout(upstream, 'headers');
    case 'idle-timeout':
      return errors.upstreamTimeout(upstream, 'idle');
    case 'unavailable':
      return responseStarted
        ? errors.upstreamError(upstream, `connection lost mid-response (${code})`)
        : errors.upstreamUnavailable(upstream, err);
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return errors.upstreamError(upstream, detail);
    }
  }
}

/** The error the caller sees when its own signal aborted the call. */
export function clientClosed(reason: unknown): GatewayError {
  if (isGatewayError(reason)) return reason;
  return new GatewayError('SUTAZAI_ERR_CLIENT_CLOSED', 'client closed request', { cause: reason });
}

/** Seconds from a Retry-After header (delta-seconds or HTTP-date); `fallback` when absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, fallback = 1): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === '') return fallback;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return secs >= 0 ? Math.ceil(secs) : fallback;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return fallback;
  return Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

/** The human message inside an error body: Ollama `{error:"…"}`, OpenAI `{error:{message}}`, or text. */
export function upstreamMessage(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { error?: unknown; message?: unknown };
      const msg = messageOf(parsed.error) ?? messageOf(parsed.message);
      if (msg !== undefined) return msg;
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

/** Message of an `error` value found in a stream line/event (string or `{message}`). */
export function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const m = (value as { message?: unknown }).message;
    if (typeof m === 'string') return m;
    return JSON.stringify(value);
  }
  return undefined;
}

/**
 * Map a non-2xx upstream response. `model` is set for calls that name a model, where 404 means the
 * upstream does not have it; elsewhere a 404 is a misconfigured upstream URL (502).
 */
export function mapStatus(
  upstream: string,
  status: number,
  headers: IncomingHttpHeaders,
  bodyText: string,
  model: string | undefined,
): GatewayError {
  const message = upstreamMessage(bodyText);
  if (status === 404 && model !== undefined) return errors.modelNotFound(model);
  if (status === 503 || status === 429) {
    return errors.upstreamBusy(upstream, parseRetryAfter(headers['retry-after']));
  }
  if (status === 400) {
    return new GatewayError('SUTAZAI_ERR_BAD_REQUEST', message || 'bad request', { upstream });
  }
  return errors.upstreamError(upstream, `HTTP ${status}${message ? `: ${message}` : ''}`);
}
