import type { SimContext } from './context.js';
import type { JsonObject } from './http.js';

/**
 * Sampling, when the `sampling` option is on: a request with a temperature other than 0 (or
 * none: Ollama defaults to 0.8, OpenAI to 1) and no `seed` gets a fresh answer each time, as a
 * real server's would — what a chat UI's "regenerate" relies on. Off (the default), the text is a
 * pure function of the prompt, as the README's rules say.
 */

const draws = new WeakMap<SimContext, number>();

/** A salt for the text key: '' for a deterministic request, else a new value per request. */
export function samplingSalt(ctx: SimContext, temperature: unknown, seed: unknown): string {
  if (ctx.opts.sampling !== true || temperature === 0 || typeof seed === 'number') return '';
  const n = (draws.get(ctx) ?? 0) + 1;
  draws.set(ctx, n);
  return `\u0003draw${n}`;
}

/** Ollama puts sampling in `options`; OpenAI at the top level. */
export function ollamaSalt(ctx: SimContext, body: JsonObject): string {
  const o = (typeof body.options === 'object' && body.options !== null ? body.options : {}) as JsonObject;
  return samplingSalt(ctx, o.temperature, o.seed);
}

export const openaiSalt = (ctx: SimContext, body: JsonObject): string =>
  samplingSalt(ctx, body.temperature, body.seed);
