import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Caller } from '../../pipeline/types.js';
import { NDJSON_CONTENT_TYPE, SSE_CONTENT_TYPE } from './frames.js';
import { openRawStream, type RawStream } from './raw.js';

/** An SSE comment line: every SSE parser skips it (docs/protocols.md, "SSE comments"). */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

interface Held {
  out: RawStream;
  stop(): void;
}

/** Streams whose headers went out before their answer started, until writeGeneration takes them. */
const HELD = new WeakMap<ServerResponse, Held>();

/**
 * Send a waiting stream's headers now (the request was queued for a slot, or its first token is
 * slow) and, on SSE surfaces, a comment every keepAliveMs until writeGeneration takes the stream
 * over, so clients and proxies see a live response. NDJSON (Ollama) gets headers only: a strict
 * client parses every line as JSON, so nothing else may be sent.
 */
export function holdStreamOpen(reply: FastifyReply, surface: Caller['surface'], keepAliveMs: number): void {
  if (HELD.has(reply.raw) || reply.sent) return;
  const ndjson = surface === 'ollama';
  const out = openRawStream(reply, ndjson ? NDJSON_CONTENT_TYPE : SSE_CONTENT_TYPE);
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  if (!ndjson && keepAliveMs > 0) {
    timer = setInterval(() => {
      if (out.closed) stop();
      else void out.push(SSE_KEEP_ALIVE);
    }, keepAliveMs);
    reply.raw.once('close', stop);
  }
  HELD.set(reply.raw, { out, stop });
}

/** The stream holdStreamOpen() opened for this reply (its keep-alives stopped), if any. */
export function takeHeldStream(reply: FastifyReply): RawStream | undefined {
  const held = HELD.get(reply.raw);
  if (held === undefined) return undefined;
  HELD.delete(reply.raw);
  held.stop();
  return held.out;
}
