import { errors } from '../errors/catalogue.js';

/*
 * Defensive reading of upstream JSON (both wire formats, NDJSON lines and SSE data alike).
 */

/** A parsed JSON object from an upstream; fields are read defensively by the adapters. */
export type Json = Record<string, unknown>;

/** Parses one JSON value that must be an object; anything else is a bad upstream response. */
export function parseObject(text: string, upstream: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw errors.upstreamBadResponse(upstream, 'stream carried invalid JSON');
  }
  return asObject(value, upstream);
}

export function asObject(value: unknown, upstream: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.upstreamBadResponse(upstream, 'expected a JSON object');
  }
  return value as Json;
}

/** A number field, 0 when absent or not a number (Ollama omits zero metrics). */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
