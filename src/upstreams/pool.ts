import { Pool } from 'undici';
import { displayUrl, type UpstreamConfig, type UpstreamTimeouts } from '../config/upstreams.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import { UpstreamCall, type CallContext, type Method } from './call.js';
import type { UpstreamPoolStats } from './types.js';

/*
 * The HTTP side shared by both adapters: one keep-alive undici Pool per upstream (here), and an
 * UpstreamCall per request (call.ts) that owns the timers, the abort wiring and the error mapping.
 */

export interface UpstreamHttp {
  readonly id: string;
  readonly timeouts: UpstreamTimeouts;
  /** Start a call. Pair every call with `call.end()` in a finally block. */
  call(signal: CancelSignal, model: string | undefined): UpstreamCall;
  /** POST/GET and parse the JSON response in one go (non-streaming). */
  json(
    method: Method,
    path: string,
    payload: string | undefined,
    signal: CancelSignal,
    model?: string,
  ): Promise<unknown>;
  inFlight(): number;
  poolStats(): UpstreamPoolStats;
  close(): Promise<void>;
}

/** Validates the config (fails at start-up, not on the first request) and builds the pool. */
export function createUpstreamHttp(
  cfg: UpstreamConfig,
  extraHeaders: Record<string, string> = {},
): UpstreamHttp {
  const { id, timeouts } = cfg;
  let url: URL;
  try {
    url = new URL(cfg.url);
  } catch {
    throw new Error(`upstream '${id}': invalid url '${displayUrl(cfg.url)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`upstream '${id}': url must be http(s), got '${displayUrl(cfg.url)}'`);
  }
  if (!Number.isInteger(cfg.connections) || cfg.connections < 1) {
    throw new Error(`upstream '${id}': connections must be a positive integer`);
  }
  for (const key of ['connectMs', 'ttftMs', 'idleMs'] as const) {
    if (!(timeouts[key] > 0)) throw new Error(`upstream '${id}': timeouts.${key} must be > 0`);
  }
  if (!(timeouts.totalMs >= 0)) throw new Error(`upstream '${id}': timeouts.totalMs must be >= 0`);
  const basePath = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, {
    connections: cfg.connections,
    connect: { timeout: timeouts.connectMs },
    // Our own timers (UpstreamCall) fire first; these are a backstop only. Without a whole-call
    // limit a non-streamed answer may take as long as it needs (0 = undici's timer off).
    headersTimeout: timeouts.totalMs > 0 ? Math.max(timeouts.totalMs, timeouts.ttftMs) + 1000 : 0,
    bodyTimeout: Math.max(timeouts.ttftMs, timeouts.idleMs) + 1000,
  });
  // One frozen header object shared by every request: nothing is built per call.
  const headers: Record<string, string> = Object.freeze({
    'content-type': 'application/json',
    accept: 'application/json',
    // Credentials in the URL (http://user:pass@host) are sent as Basic auth: undici's pool takes
    // only the origin, and the URL itself is never shown with its password.
    ...(url.username || url.password
      ? {
          authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`,
        }
      : {}),
    ...extraHeaders,
  });
  const state = { inFlight: 0 };
  const ctx: CallContext = { id, timeouts, pool, basePath, headers, state };

  return {
    id,
    timeouts,
    call: (signal, model) => new UpstreamCall(ctx, signal, model),
    async json(method, path, payload, signal, model) {
      const call = new UpstreamCall(ctx, signal, model);
      try {
        const body = await call.send(method, path, payload);
        return await call.readJson(body);
      } catch (err) {
        throw call.fail(err);
      } finally {
        call.end();
      }
    },
    inFlight: () => state.inFlight,
    poolStats() {
      const s = pool.stats;
      return { connected: s.connected, free: s.free, pending: s.pending, running: s.running };
    },
    close: () => pool.close(),
  };
}
