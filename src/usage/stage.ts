import { performance } from 'node:perf_hooks';
import { isGatewayError } from '../errors/catalogue.js';
import type { CacheStatus, GenerationResult, RequestContext, Stage } from '../pipeline/pipeline.js';
import type { Chunk } from '../pipeline/types.js';
import type { UsageRow } from '../store/usage.js';
import type { UsageRecorder } from './recorder.js';

/** The HTTP status a failure is answered with; a client that left is 499. */
function statusOf(err: unknown): number {
  if (isGatewayError(err)) return err.status;
  if ((err as { name?: string } | undefined)?.name === 'AbortError') return 499;
  return 500;
}

const ms = (t: number) => Math.round(t * 100) / 100;

/**
 * One usage row per LLM request (generation or embedding), refusals included: key, surface, model,
 * upstream, status, tokens, latency, time to first token, cache outcome, request id — never the
 * prompt or the answer. Placed right after the outer metrics stage so 403/429 refusals are logged
 * too. Rows go to the recorder's buffer; the database is written off the request path.
 */
export function usageStage(recorder: UsageRecorder): Stage {
  const row = (
    ctx: RequestContext,
    model: string,
    status: number,
    started: number,
    extra: Partial<UsageRow>,
  ): UsageRow => ({
    at: Date.now(),
    ...(ctx.caller.keyId !== undefined ? { keyId: ctx.caller.keyId } : {}),
    surface: ctx.caller.surface,
    model,
    status,
    promptTokens: 0,
    completionTokens: 0,
    latencyMs: ms(performance.now() - started),
    requestId: ctx.caller.requestId,
    ...extra,
  });

  async function* tracked(
    r: GenerationResult,
    ctx: RequestContext,
    started: number,
    ttft: number,
  ): AsyncIterable<Chunk> {
    let status = 200;
    let prompt = 0;
    let completion = 0;
    try {
      for await (const c of r.chunks) {
        if (c.type === 'done') {
          prompt = c.usage.promptTokens;
          completion = c.usage.completionTokens;
        }
        yield c;
      }
    } catch (err) {
      status = statusOf(err);
      throw err;
    } finally {
      recorder.record(
        row(ctx, r.model, status, started, {
          upstream: r.upstream,
          cache: r.cache,
          promptTokens: prompt,
          completionTokens: completion,
          ttftMs: ttft,
        }),
      );
    }
  }

  return {
    name: 'usage',
    async generate(req, ctx, next) {
      const started = performance.now();
      let r: GenerationResult;
      try {
        r = await next();
      } catch (err) {
        recorder.record(row(ctx, req.model, statusOf(err), started, {}));
        throw err;
      }
      return { ...r, chunks: tracked(r, ctx, started, ms(performance.now() - started)) };
    },
    async embed(req, ctx, next) {
      const started = performance.now();
      try {
        const out = await next();
        const cache: CacheStatus = out.cache;
        recorder.record(
          row(ctx, out.result.model || req.model, 200, started, {
            upstream: out.upstream,
            cache,
            promptTokens: out.result.promptTokens,
          }),
        );
        return out;
      } catch (err) {
        recorder.record(row(ctx, req.model, statusOf(err), started, {}));
        throw err;
      }
    },
  };
}
