import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors/catalogue.js';

type Parser = (req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * Deepest nesting of `{`/`[` in a JSON text, counted outside strings; stops as soon as it passes
 * `limit`. Iterative and one pass, so a hostile body cannot exhaust the stack here; anything
 * after this (cache keys, mapping) walks the parsed value recursively, so the bound protects it.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: jump to its closing quote with indexOf (native speed: a base64 image of many
      // MB holds no quote), then skip the quote if an odd run of backslashes escapes it.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return false; // unterminated: the parser will refuse it
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * The app's JSON parser (prototype-poisoning checks as configured) behind a nesting bound. A body
 * shorter than the bound cannot be too deep, so ordinary requests skip the scan.
 */
export function boundedJsonParser(
  app: FastifyInstance,
  maxDepth: number,
  constructorPoisoning: 'error' | 'ignore' = 'error',
): Parser {
  const parse = app.getDefaultJsonParser('error', constructorPoisoning) as Parser;
  return (req, body, done) => {
    if (body.length > maxDepth && jsonDepthExceeds(body, maxDepth)) {
      done(
        new GatewayError(
          'SUTAZAI_ERR_VALIDATION',
          `JSON body is nested deeper than ${maxDepth} levels (SUTAZAI_MAX_JSON_DEPTH)`,
        ),
      );
      return;
    }
    parse(req, body, done);
  };
}
