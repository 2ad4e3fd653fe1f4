import type { GenerationResult, RequestContext, Stage } from '../pipeline/pipeline.js';
import type { Chunk, GenerationRequest } from '../pipeline/types.js';
import type { Admission, Ticket } from './controller.js';
import { releasingChunks } from './release.js';

export interface AdmissionStageDeps {
  admission: Admission;
  /** Interval of SSE keep-alive comments while a stream waits (ms; 0 = none, headers still go early). */
  keepAliveMs: number;
}

/** Who takes turns within a lane: the API key when there is one, else the client address. */
const callerOf = (ctx: RequestContext): string => ctx.caller.keyId ?? ctx.caller.client ?? ctx.caller.surface;

/**
 * A result whose stream fails at once: for a request whose headers already went out (it waited),
 * so the surface's writer ends the stream with its own error frame instead of a status code.
 */
function failedResult(req: GenerationRequest, err: unknown): GenerationResult {
  const chunks: AsyncIterable<Chunk> = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(err instanceof Error ? err : new Error(String(err))),
      return: () => Promise.resolve({ done: true as const, value: undefined }),
    }),
  };
  return { chunks, model: req.model, upstream: '', cache: 'bypass' };
}

/**
 * Admission control as a pipeline stage (after the cache, so hits and merged followers never take
 * a slot): wait for a slot of the model (or be turned away with 503), run the rest of the
 * pipeline, and give the slot back exactly once when the stream ends, fails or is closed early.
 * A stream that waits gets its headers and keep-alives early (ctx.holdOpen); every response gets
 * Server-Timing (ctx.serverTiming).
 */
export function admissionStage({ admission, keepAliveMs }: AdmissionStageDeps): Stage {
  return {
    name: 'admission',
    async generate(req, ctx, next) {
      let held = false;
      const hold =
        req.stream && ctx.holdOpen !== undefined
          ? () => {
              if (held) return;
              held = true;
              ctx.holdOpen?.(keepAliveMs);
            }
          : undefined;
      let ticket: Ticket | undefined;
      try {
        const entry = admission.enter(req.model, req.priority, callerOf(ctx), ctx.signal, hold);
        ticket = entry instanceof Promise ? await entry : entry;
      } catch (err) {
        if (held) return failedResult(req, err);
        throw err;
      }
      const queuedMs = ticket?.waitedMs ?? 0;
      const started = performance.now();
      // A slow first token (a model loading): show a waiting stream is alive.
      const slow = hold !== undefined && !held && keepAliveMs > 0 ? setTimeout(hold, keepAliveMs) : undefined;
      let result: GenerationResult;
      try {
        result = await next();
      } catch (err) {
        ticket?.release(false);
        if (held) return failedResult(req, err);
        throw err;
      } finally {
        if (slow !== undefined) clearTimeout(slow);
      }
      if (req.stream) {
        ctx.serverTiming?.(queuedMs, performance.now() - started);
        if (ticket === undefined) return result;
      }
      const t = ticket;
      return {
        ...result,
        chunks: releasingChunks(result.chunks, (completed) => {
          t?.release(completed);
          if (!req.stream) ctx.serverTiming?.(queuedMs, performance.now() - started);
        }),
      };
    },
  };
}
