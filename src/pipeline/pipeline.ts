import type { CancelSignal } from './cancel.js';
import type {
  Caller,
  ChatRequest,
  Chunk,
  EmbedRequest,
  EmbedResult,
  GenerateRequest,
  GenerationRequest,
  ModelInfo,
} from './types.js';
import { primeStream } from './stream.js';

/** Where an answer came from; sent as `x-sutazai-cache` on every LLM route. */
export type CacheStatus = 'hit-l1' | 'hit-l2' | 'miss' | 'merged' | 'bypass';

export interface RequestContext {
  caller: Caller;
  /** Aborted when the client goes away (or the request times out). */
  signal: CancelSignal;
  /** Request headers relevant to policy (e.g. cache-control), lower-cased names. */
  cacheControl?: string;
  /**
   * What the pipeline learnt about the HTTP request behind this context, for the metrics the
   * HTTP layer records when the response closes. Absent when metrics are off and for tasks.
   */
  tally?: RequestTally;
  /**
   * A streamed answer has to wait (queued for a slot, or slow to its first token): send the
   * response headers now and keep the connection alive until the first chunk (SSE comments every
   * keepAliveMs). The HTTP layer implements it; absent for tasks.
   */
  holdOpen?(keepAliveMs: number): void;
  /** Server-Timing of the response: time queued for a slot and in the upstream call (ms). */
  serverTiming?(queueMs: number, upstreamMs: number): void;
}

/** Filled in by the metrics stages, read by the HTTP instrumentation (src/http/metrics/instrument.ts). */
export interface RequestTally {
  /** Time spent in upstream calls made for this request, ms. */
  upstreamMs: number;
  /** Pipeline calls (generations or embeddings) made by this request. */
  calls: number;
  cache: CacheStatus | undefined;
}

export interface GenerationResult {
  /**
   * The answer as chunks. The first chunk has already been received from the source, so errors
   * that happen before any output are thrown by `generate()` instead (a surface can still send
   * a proper status code). Iterate once.
   */
  chunks: AsyncIterable<Chunk>;
  model: string;
  upstream: string;
  cache: CacheStatus;
}

export interface EmbedOutcome {
  result: EmbedResult;
  upstream: string;
  cache: CacheStatus;
}

/**
 * Call the rest of the pipeline. A stage may pass a different context (e.g. the cache's merged
 * request, which runs under its own AbortSignal); omitted = the stage's own `ctx`.
 */
export type Next<T> = (ctx?: RequestContext) => Promise<T>;

/** A pipeline stage: answer the request itself, or call `next()` and optionally wrap the result. */
export interface Stage {
  readonly name: string;
  generate?(
    req: GenerationRequest,
    ctx: RequestContext,
    next: Next<GenerationResult>,
  ): Promise<GenerationResult>;
  embed?(req: EmbedRequest, ctx: RequestContext, next: Next<EmbedOutcome>): Promise<EmbedOutcome>;
}

/**
 * The calls the pipeline's innermost step makes on an upstream. Declared here, implemented by the
 * adapters in src/upstreams/ (UpstreamAdapter extends it), so the core does not depend on them.
 */
export interface Upstream {
  readonly id: string;
  chat(req: ChatRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  generate(req: GenerateRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  embed(req: EmbedRequest, signal: CancelSignal): Promise<EmbedResult>;
}

/** Resolves a model name to the upstream that serves it (see upstreams/registry). */
export interface ModelRouter {
  resolve(model: string): Promise<Upstream>;
  list(): Promise<ModelInfo[]>;
  /**
   * Concurrent generations `model` can get now: the sum of `slots` of the healthy (circuit not
   * open) upstreams serving it; 0 when none. Read by admission control.
   */
  capacity?(model: string): number;
}

export interface Pipeline {
  generate(req: GenerationRequest, ctx: RequestContext): Promise<GenerationResult>;
  embed(req: EmbedRequest, ctx: RequestContext): Promise<EmbedOutcome>;
  listModels(): Promise<ModelInfo[]>;
}

export interface PipelineDeps {
  router: ModelRouter;
  /** In request order, outermost first, as src/gateway/stages.ts lists them. */
  stages: readonly Stage[];
}

/**
 * Runs the stages in the order given (src/gateway/stages.ts declares it). The innermost step
 * resolves the upstream and calls the adapter; every stage sees (and may wrap) the chunk stream.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const genStages = deps.stages.filter((s) => s.generate !== undefined);
  const embedStages = deps.stages.filter((s) => s.embed !== undefined);

  async function callUpstream(req: GenerationRequest, ctx: RequestContext): Promise<GenerationResult> {
    const adapter = await deps.router.resolve(req.model);
    const source = req.kind === 'chat' ? adapter.chat(req, ctx.signal) : adapter.generate(req, ctx.signal);
    const chunks = await primeStream(source);
    return { chunks, model: req.model, upstream: adapter.id, cache: 'bypass' };
  }

  async function callEmbed(req: EmbedRequest, ctx: RequestContext): Promise<EmbedOutcome> {
    const adapter = await deps.router.resolve(req.model);
    const result = await adapter.embed(req, ctx.signal);
    return { result, upstream: adapter.id, cache: 'bypass' };
  }

  return {
    generate(req, ctx) {
      const run = (i: number, c: RequestContext): Promise<GenerationResult> => {
        const stage = genStages[i];
        if (!stage?.generate) return callUpstream(req, c);
        return stage.generate(req, c, (override) => run(i + 1, override ?? c));
      };
      return run(0, ctx);
    },
    embed(req, ctx) {
      const run = (i: number, c: RequestContext): Promise<EmbedOutcome> => {
        const stage = embedStages[i];
        if (!stage?.embed) return callEmbed(req, c);
        return stage.embed(req, c, (override) => run(i + 1, override ?? c));
      };
      return run(0, ctx);
    },
    listModels: () => deps.router.list(),
  };
}
