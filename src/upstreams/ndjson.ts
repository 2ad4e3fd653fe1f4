import { errors } from '../errors/catalogue.js';
import { LineSplitter } from './lines.js';
import { SseParser } from './sse.js';
import type { SseEvent } from './sse.js';

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

/** NDJSON: one object per non-empty line, yielded as soon as its line is complete. */
export async function* ndjsonObjects(pieces: AsyncIterable<string>, upstream: string): AsyncGenerator<Json> {
  const lines = new LineSplitter();
  for await (const piece of pieces) {
    lines.push(piece);
    for (let line = lines.next(); line !== undefined; line = lines.next()) {
      if (line.trim().length > 0) yield parseObject(line, upstream);
    }
  }
  const tail = lines.rest();
  if (tail.trim().length > 0) yield parseObject(tail, upstream);
}

/** SSE: each event as soon as its terminating blank line arrived (plus an unterminated last one). */
export async function* sseEvents(pieces: AsyncIterable<string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const piece of pieces) {
    parser.push(piece);
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) yield ev;
  }
  const last = parser.finish();
  if (last !== undefined) yield last;
}

/** A number field, 0 when absent or not a number (Ollama omits zero metrics). */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
