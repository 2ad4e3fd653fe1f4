/*
 * How an upstream is configured: parsed and checked by config.ts, read by src/upstreams/. Kept in
 * config/ so that the configuration depends on nothing else in the gateway.
 */

export type UpstreamKind = 'ollama' | 'openai';

/**
 * An upstream URL as it may be shown (agents, settings, logs, errors): a password in it becomes
 * `***`. The id (`kind@host`) never holds credentials, so metrics labels are safe as they are.
 */
export function displayUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/g, '$1***@');
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

export interface UpstreamTimeouts {
  /** TCP connect timeout, ms. Default 5000. */
  connectMs: number;
  /** Whole request (non-streaming) / time to first chunk (streaming), ms. Default 30000. */
  totalMs: number;
  /** Max silence between stream chunks, ms. Default 30000. */
  idleMs: number;
}

export interface UpstreamConfig {
  id: string;
  kind: UpstreamKind;
  /** ollama: base like http://127.0.0.1:11434 ; openai: base including /v1 like http://127.0.0.1:8080/v1 */
  url: string;
  /** Bearer key sent to an OpenAI-compatible upstream, if any. */
  apiKey?: string;
  /** Max connections in the keep-alive pool. Default 256. */
  connections: number;
  timeouts: UpstreamTimeouts;
}
