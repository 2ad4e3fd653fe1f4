import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationResult, RequestContext } from '../../pipeline/pipeline.js';
import type { Chunk } from '../../pipeline/types.js';
import { toGatewayError } from '../errors.js';
import { openRawStream } from '../raw-stream.js';
import { ollamaErrorBody } from './errors.js';

/** Maps internal chunks to the lines of one Ollama NDJSON stream. */
export interface LineSource {
  map(chunk: Chunk): unknown[];
  /** Lines after the last chunk: the `done:true` line if the source never sent `done`. */
  end(): unknown[];
}

export const ndjson = (lines: readonly unknown[]): string =>
  lines.length === 1 ? `${JSON.stringify(lines[0])}\n` : lines.map((l) => `${JSON.stringify(l)}\n`).join('');

/**
 * Write a generation as Ollama NDJSON: each upstream chunk is written (and flushed) as it
 * arrives; the stream always ends with a `done:true` line, or with one `{"error":"..."}` line if it
 * fails mid-way (ollama-js throws on it). Client disconnect stops iteration and the upstream call.
 */
export async function streamOllama(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: RequestContext,
  result: GenerationResult,
  lines: LineSource,
): Promise<void> {
  const out = openRawStream(reply, 'application/x-ndjson', {
    headers: { 'x-sutazai-cache': result.cache },
    flushHeaders: false,
  });
  try {
    for await (const chunk of result.chunks) {
      if (out.closed) break;
      const mapped = lines.map(chunk);
      if (mapped.length > 0) {
        const drained = out.push(ndjson(mapped));
        if (drained) await drained;
      }
    }
    if (!out.closed) {
      const tail = lines.end();
      if (tail.length > 0) await out.write(ndjson(tail));
    }
  } catch (error) {
    const err = toGatewayError(error);
    if (!ctx.signal.aborted) {
      req.log.warn({ code: err.code, error: err.message }, 'stream failed mid-way');
      await out.write(ndjson([ollamaErrorBody(err)]));
    }
  } finally {
    out.end();
  }
}
