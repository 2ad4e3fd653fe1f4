import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationResult, RequestContext } from '../../pipeline/pipeline.js';
import type { Chunk } from '../../pipeline/types.js';
import { toGatewayError } from '../errors.js';
import { openRawStream } from '../raw-stream.js';
import { openAIErrorBody } from './errors.js';

/** Maps internal chunks to the wire objects of one OpenAI stream. */
export interface FrameSource<T> {
  /** Frames sent before the first chunk. */
  start: T[];
  map(chunk: Chunk): T[];
  /** Frames sent after the last chunk (e.g. a finish chunk if the source never said done). */
  end(): T[];
}

export const sseData = (frames: readonly unknown[]): string =>
  frames.length === 1
    ? `data: ${JSON.stringify(frames[0])}\n\n`
    : frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join('');

export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * Write a generation as OpenAI SSE: every upstream chunk is written (and flushed) as it arrives,
 * the stream ends with `data: [DONE]`, or with one `data: {"error":{...}}` event if it fails
 * mid-way. Client disconnect stops iteration, which closes the upstream request.
 */
export async function streamOpenAI<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: RequestContext,
  result: GenerationResult,
  frames: FrameSource<T>,
): Promise<void> {
  const out = openRawStream(reply, 'text/event-stream; charset=utf-8', {
    headers: { 'x-sutazai-cache': result.cache },
    flushHeaders: false,
  });
  try {
    if (frames.start.length > 0) await out.write(sseData(frames.start));
    for await (const chunk of result.chunks) {
      if (out.closed) break;
      const mapped = frames.map(chunk);
      if (mapped.length > 0) {
        const drained = out.push(sseData(mapped));
        if (drained) await drained;
      }
    }
    if (!out.closed) await out.write(sseData(frames.end()) + SSE_DONE);
  } catch (error) {
    const err = toGatewayError(error);
    if (!ctx.signal.aborted) {
      req.log.warn({ code: err.code, error: err.message }, 'stream failed mid-way');
      await out.write(sseData([openAIErrorBody(err)]));
    }
  } finally {
    out.end();
  }
}
