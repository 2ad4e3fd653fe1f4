import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayError } from '../../errors/catalogue.js';
import type { GenerationResult, RequestContext } from '../../pipeline/pipeline.js';
import { ClientSignal } from '../../pipeline/cancel.js';
import type { Chunk } from '../../pipeline/types.js';
import { toGatewayError } from '../errors.js';
import type { CuttableStream } from './open-streams.js';
import { takeHeldStream } from './held.js';
import { openRawStream, type RawStream } from './raw.js';

/**
 * How one surface writes a generation as a stream: its content type, its framing of each chunk and
 * its error frame. Everything else (backpressure, client abort, mid-stream errors, headers) is
 * writeGeneration()'s, the same for every surface. A new surface adds one of these
 * (see docs/architecture.md, "Adding a surface").
 */
export interface StreamRenderer {
  readonly contentType: string;
  /** Wire text before the first chunk ('' = nothing). */
  start(): string;
  /** Wire text of one chunk ('' = nothing to send for it). */
  chunk(c: Chunk): string;
  /** Wire text after the last chunk when the source ended normally ('' = nothing). */
  end(): string;
  /** One error frame in the surface's envelope, for a stream that fails part-way. */
  error(err: GatewayError): string;
}

/**
 * Write a generation as a stream, the one behaviour of every surface:
 * - headers leave with the first piece (no separate packet), plus `x-sutazai-cache` and `headers`;
 *   unless the request had to wait (src/http/stream/held.ts): then they left early, and the stream
 *   continues after its keep-alives;
 *   no Connection header of our own (Node answers keep-alive, or close when the client asked);
 * - each chunk is written and flushed as it arrives; the loop awaits only when the socket
 *   pushes back (backpressure);
 * - a client that goes away stops iteration, which cancels the upstream call; nothing more is
 *   written to it, not even an error frame;
 * - an error part-way (client still there) is logged and ends the stream with one error frame;
 * - a shutdown whose grace period runs out cuts it the same way (one error frame, then the end).
 */
export async function writeGeneration(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: RequestContext,
  result: GenerationResult,
  renderer: StreamRenderer,
  headers: Record<string, string> = {},
): Promise<void> {
  const out =
    takeHeldStream(reply) ??
    openRawStream(reply, renderer.contentType, {
      headers: { 'x-sutazai-cache': result.cache, ...headers },
      flushHeaders: false,
    });
  const open = req.server.sutazaiStreams;
  const entry = open ? cuttable(reply, ctx, out, renderer) : undefined;
  if (entry) open?.add(entry);
  try {
    const start = renderer.start();
    if (start) await out.write(start);
    for await (const chunk of result.chunks) {
      if (out.closed) break;
      const text = renderer.chunk(chunk);
      if (text) {
        const drained = out.push(text);
        if (drained) await drained;
      }
    }
    if (!out.closed) {
      const tail = renderer.end();
      if (tail) await out.write(tail);
    }
  } catch (error) {
    const err = toGatewayError(error);
    if (!ctx.signal.aborted && !out.closed) {
      req.log.warn({ code: err.code, error: err.message }, 'stream failed mid-way');
      await out.write(renderer.error(err));
    }
  } finally {
    out.end();
    if (entry) open?.delete(entry);
  }
}

/** The shutdown handle of one stream (src/http/stream/open-streams.ts). */
function cuttable(
  reply: FastifyReply,
  ctx: RequestContext,
  out: RawStream,
  renderer: StreamRenderer,
): CuttableStream {
  const res = reply.raw;
  return {
    cut(err) {
      if (out.closed) return;
      void out.push(renderer.error(err));
      out.end();
      // Stop the upstream call now: the loop may be waiting on a chunk that comes late or never.
      const signal = ctx.signal;
      if (signal instanceof ClientSignal) signal.abort(new DOMException(err.message, 'AbortError'));
    },
    get finished() {
      if (res.writableFinished || res.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
    },
  };
}
