import { Pool } from 'undici';
import { GatewayError, errors } from '../../errors/catalogue.js';
import type { UpstreamConfig } from '../../config/upstreams.js';
import { mapNetworkError } from './manage-errors.js';

/**
 * Ollama model management through the gateway (docs/protocols.md F.8): pull, push, create, copy,
 * delete, ps, show and version, forwarded to the Ollama upstreams as they are. Not an adapter
 * call: these are not generations (no model routing, no cache, no generation timeouts — a pull
 * takes minutes), so each Ollama upstream gets a small pool of its own here.
 */

export type Json = Record<string, unknown>;

/** One upstream's answer to a management call: its status and parsed JSON body (undefined = empty). */
export interface AdminReply {
  upstream: string;
  status: number;
  body: Json | undefined;
}

export interface OllamaAdmin {
  /** Ids of the Ollama upstreams, in configuration order. */
  readonly ids: readonly string[];
  /** One request, whole answer (copy, delete, ps, show, version). Network failure → 503. */
  call(
    id: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: Json | undefined,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<AdminReply>;
  /**
   * A progress stream (pull, push, create: always asked for with stream: true): the NDJSON
   * objects as they arrive. A non-2xx answer is thrown before the first object as a GatewayError
   * carrying the upstream's status and message.
   */
  progress(id: string, path: string, body: Json, signal: AbortSignal): AsyncGenerator<Json>;
  close(): Promise<void>;
}

interface Target {
  pool: Pool;
  basePath: string;
  headers: Record<string, string>;
}

function target(cfg: UpstreamConfig): Target {
  const url = new URL(cfg.url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (url.username || url.password)
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  if (cfg.apiKey !== undefined) headers.authorization = `Bearer ${cfg.apiKey}`;
  return {
    pool: new Pool(url.origin, {
      connections: 4,
      connect: { timeout: cfg.timeouts.connectMs },
      headersTimeout: 0,
      bodyTimeout: 0,
    }),
    basePath: url.pathname.replace(/\/+$/, ''),
    headers,
  };
}

/** An upstream's refusal as the gateway's error: Ollama's own status and `{"error"}` message kept. */
export function refusal(upstream: string, status: number, body: Json | undefined): GatewayError {
  const message = typeof body?.error === 'string' ? body.error : `HTTP ${status}`;
  if (status === 404) return new GatewayError('SUTAZAI_ERR_MODEL_NOT_FOUND', message);
  if (status >= 400 && status < 500) return errors.validation(message);
  return errors.upstreamError(upstream, message);
}

function parse(text: string): Json | undefined {
  if (text.trim() === '') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : { value: v };
  } catch {
    return { error: text.trim() };
  }
}

export function createOllamaAdmin(configs: readonly UpstreamConfig[]): OllamaAdmin {
  const targets = new Map<string, Target>();
  for (const cfg of configs) if (cfg.kind === 'ollama') targets.set(cfg.id, target(cfg));

  function get(id: string): Target {
    const t = targets.get(id);
    if (t === undefined) throw errors.validation(`upstream '${id}' is not an Ollama upstream`, 'upstream');
    return t;
  }

  return {
    ids: [...targets.keys()],

    async call(id, method, path, body, signal, timeoutMs = 30_000) {
      const t = get(id);
      try {
        const res = await t.pool.request({
          path: t.basePath + path,
          method,
          headers: t.headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        return { upstream: id, status: res.statusCode, body: parse(await res.body.text()) };
      } catch (err) {
        throw mapNetworkError(id, err);
      }
    },

    async *progress(id, path, body, signal) {
      const t = get(id);
      let res: Awaited<ReturnType<Pool['request']>>;
      try {
        res = await t.pool.request({
          path: t.basePath + path,
          method: 'POST',
          headers: t.headers,
          body: JSON.stringify({ ...body, stream: true }),
          signal,
        });
      } catch (err) {
        throw mapNetworkError(id, err);
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        throw refusal(id, res.statusCode, parse(await res.body.text()));
      }
      let buf = '';
      try {
        for await (const piece of res.body) {
          buf += (piece as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = parse(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if (line !== undefined) yield line;
          }
        }
      } catch (err) {
        throw mapNetworkError(id, err);
      } finally {
        if (!res.body.destroyed) res.body.destroy();
      }
      const last = parse(buf);
      if (last !== undefined) yield last;
    },

    async close() {
      await Promise.all([...targets.values()].map((t) => t.pool.close()));
    },
  };
}
