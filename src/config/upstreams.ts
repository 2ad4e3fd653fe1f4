/*
 * How an upstream is configured: parsed and checked by config.ts (entries by upstream-list.ts),
 * read by src/upstreams/. Kept in config/ so that the configuration depends on nothing else in the
 * gateway.
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
  /** Time from sending a streamed call to its first body chunk (the first token), ms. Default 120000. */
  ttftMs: number;
  /** Max silence between stream chunks (tokens), ms. Default 30000. */
  idleMs: number;
  /**
   * Whole call, streamed or not, ms; 0 = no limit (the default): an answer that keeps streaming
   * never times out, and a non-streamed one may take as long as it needs.
   */
  totalMs: number;
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
  /** Generations the server runs at once (OLLAMA_NUM_PARALLEL, llama.cpp -np). Default 4. */
  slots?: number;
  /** Relative share when upstreams are otherwise equal (> 0). Default 1. */
  weight?: number;
  /** Allow-list: only these models are routed here (others it lists are ignored). Default: all. */
  models?: readonly string[];
  /** Models preloaded at start and kept resident (Ollama `keep_alive: -1`). */
  warm?: readonly string[];
}

/** Slots of an upstream (the config default when unset). */
export function slotsOf(cfg: UpstreamConfig): number {
  return cfg.slots ?? 4;
}
