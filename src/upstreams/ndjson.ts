import { errors } from '../errors/catalogue.js';
import { LineSplitter } from './lines.js';

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

/** NDJSON: one object per non-empty line, as soon as its line is complete (a StreamParser). */
export class NdjsonParser {
  private readonly lines = new LineSplitter();
  constructor(private readonly upstream: string) {}

  push(text: string): void {
    this.lines.push(text);
  }

  next(): Json | undefined {
    for (let line = this.lines.next(); line !== undefined; line = this.lines.next()) {
      if (line.trim().length > 0) return parseObject(line, this.upstream);
    }
    return undefined;
  }

  /** A last line without its newline. */
  finish(): Json | undefined {
    const tail = this.lines.rest();
    return tail.trim().length > 0 ? parseObject(tail, this.upstream) : undefined;
  }
}

/** A number field, 0 when absent or not a number (Ollama omits zero metrics). */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
