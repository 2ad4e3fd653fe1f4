import { performance } from 'node:perf_hooks';
import { isGatewayError } from '../errors/catalogue.js';
import type { CacheStatus, GenerationResult, RequestContext, Stage } from '../pipeline/pipeline.js';
import { ChunkList, finalChunk } from '../pipeline/stream.js';
import type { Chunk, GenerationRequest } from '../pipeline/types.js';
import type { CounterSeries, HistogramHandle } from './series-metrics.js';
import type { PromMetrics } from './event-metrics.js';
import { CACHE_OUTCOMES, type TrafficWindows } from './windows.js';

export interface MetricsStageDeps {
  prom: PromMetrics;
  windows: TrafficWindows;
  /** Per-upstream windows (requests, errors, latency) for the JSON view; undefined = unknown id. */
  upstreamWindows(id: string): TrafficWindows | undefined;
  /** Bounded model label: a catalog model name, else "other". */
  modelLabel(model: string): string;
  /** Time to first token of answers that were not cache hits, for alert rules. */
  ttftWindows?: TrafficWindows;
}

type End = 'ok' | 'error' | 'aborted';

/** What a tap reports: the `done` chunk if one passed, and how the stream ended. */
interface TapSink {
  end(how: End, done: DoneChunk | undefined, err?: unknown): void;
}
type DoneChunk = Extract<Chunk, { type: 'done' }>;

/**
 * A chunk stream seen on its way through: remembers the `done` chunk and reports once how the
 * stream ended. One object per request with its methods on the prototype, so the hot path
 * allocates no closures per chunk (these wrap every LLM request twice).
 */
class Tap implements AsyncIterableIterator<Chunk> {
  private readonly it: AsyncIterator<Chunk>;
  private done: DoneChunk | undefined = undefined;
  private ended = false;

  constructor(
    src: AsyncIterable<Chunk>,
    private readonly sink: TapSink,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }

  private end(how: End, err?: unknown) {
    if (this.ended) return;
    this.ended = true;
    this.sink.end(how, this.done, err);
  }

  /** No async frame per chunk: one reaction on the source's promise, with handlers made once per tap. */
  next(): Promise<IteratorResult<Chunk>> {
    let p: Promise<IteratorResult<Chunk>>;
    try {
      p = this.it.next();
    } catch (err) {
      return this.onFail(err);
    }
    return p.then(this.onNext, this.onFail);
  }

  private readonly onNext = (r: IteratorResult<Chunk>): IteratorResult<Chunk> => {
    if (r.done) this.end('ok');
    else if (r.value.type === 'done') this.done = r.value;
    return r;
  };

  private readonly onFail = (err: unknown): never => {
    this.end(clientWentAway(err) ? 'aborted' : 'error', err);
    throw err;
  };

  return(value?: unknown): Promise<IteratorResult<Chunk>> {
    this.end(this.done ? 'ok' : 'aborted');
    return this.it.return
      ? this.it.return(value)
      : Promise.resolve({ done: true as const, value: undefined });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** The request's own client left (not an upstream or gateway failure): counted as "aborted". */
function clientWentAway(err: unknown): boolean {
  if (isGatewayError(err)) return err.code === 'SUTAZAI_ERR_CLIENT_CLOSED';
  return err instanceof Error && err.name === 'AbortError';
}

const codeOf = (err: unknown) => (isGatewayError(err) ? err.code : 'SUTAZAI_ERR_INTERNAL');
const statusOf = (err: unknown) => (isGatewayError(err) ? err.status : 500);
const cacheTier = (c: CacheStatus) => (c === 'hit-l1' ? 'l1' : c === 'hit-l2' ? 'l2' : 'none');
const cacheOutcome = (c: CacheStatus) => (c === 'hit-l1' || c === 'hit-l2' ? 'hit' : c);

/**
 * Two stages. The outer one (first in the pipeline) sees every LLM request as the client does:
 * cache outcome, time to first token, tokens, errors. The inner one (last, right before the
 * adapter) sees only real upstream calls: their latency, speed and failures.
 */
export function createMetricsStages(deps: MetricsStageDeps): { outer: Stage; inner: Stage } {
  const { prom, windows } = deps;

  /**
   * Series of one (surface, kind, model, cache outcome), looked up once per request. It is also
   * the outer stage's tap sink: everything the end of a stream updates is in here.
   */
  class Bundle implements TapSink {
    readonly ttft: HistogramHandle;
    readonly cache: CounterSeries;
    readonly merged: CounterSeries | undefined;
    readonly result: Record<End, CounterSeries>;
    readonly prompt: CounterSeries;
    readonly completion: CounterSeries;

    constructor(
      readonly surface: string,
      kind: string,
      model: string,
      readonly status: CacheStatus,
    ) {
      this.ttft = prom.ttft.handle(surface, model, status);
      this.cache = prom.cacheRequests.handle(cacheOutcome(status), cacheTier(status));
      this.merged = status === 'merged' ? prom.mergedRequests.handle() : undefined;
      this.result = {
        ok: prom.llmRequests.handle(surface, kind, model, status, 'ok'),
        error: prom.llmRequests.handle(surface, kind, model, status, 'error'),
        aborted: prom.llmRequests.handle(surface, kind, model, status, 'aborted'),
      };
      this.prompt = prom.tokens.handle(model, 'prompt', status);
      this.completion = prom.tokens.handle(model, 'completion', status);
    }

    countCache() {
      this.cache.value++;
      if (this.merged) this.merged.value++;
    }

    end(how: End, done: DoneChunk | undefined, err?: unknown) {
      this.result[how].value++;
      if (how === 'error') prom.llmErrors.inc(this.surface, codeOf(err), 'mid_stream');
      if (done) {
        this.prompt.value += done.usage.promptTokens;
        this.completion.value += done.usage.completionTokens;
      }
      windows.recordLlm(this.status, done?.usage.completionTokens ?? 0);
    }
  }
  // Bundles by surface, kind and model label, then one slot per cache outcome: lookups by strings
  // the process already holds (no key string built and hashed per request).
  type Slots = (Bundle | undefined)[];
  const bundles = new Map<string, Map<string, Map<string, Slots>>>();
  function bundle(surface: string, kind: string, model: string, cache: CacheStatus): Bundle {
    let byKind = bundles.get(surface);
    if (byKind === undefined) bundles.set(surface, (byKind = new Map<string, Map<string, Slots>>()));
    let byModel = byKind.get(kind);
    if (byModel === undefined) byKind.set(kind, (byModel = new Map<string, Slots>()));
    let slots = byModel.get(model);
    if (slots === undefined) byModel.set(model, (slots = CACHE_OUTCOMES.map(() => undefined)));
    const i = CACHE_OUTCOMES.indexOf(cache);
    return (slots[i] ??= new Bundle(surface, kind, model, cache));
  }

  function noteCall(ctx: RequestContext, cache: CacheStatus) {
    const t = ctx.tally;
    if (t) {
      t.calls++;
      t.cache = cache;
    }
  }

  function upstreamFailed(err: unknown, kind: string, ms: number) {
    const id = isGatewayError(err) ? err.upstream : undefined;
    const w = id === undefined ? undefined : deps.upstreamWindows(id);
    // Errors without a known upstream (unknown model, several upstreams at once) are not upstream calls.
    if (id === undefined || w === undefined) return;
    prom.upstreamRequests.inc(id, kind, 'error');
    prom.upstreamErrors.inc(id, codeOf(err));
    prom.upstreamDuration.observe(ms / 1000, id, kind);
    w.record(ms, statusOf(err));
  }

  /** The inner stage's tap sink: one real upstream call. */
  class UpstreamCallSink implements TapSink {
    constructor(
      private readonly req: GenerationRequest,
      private readonly ctx: RequestContext,
      private readonly upstream: string,
      private readonly model: string,
      private readonly t0: number,
      private readonly tFirst: number,
    ) {}

    end(how: End, done: DoneChunk | undefined, err?: unknown) {
      const { req, upstream: id } = this;
      const tEnd = performance.now();
      const ms = tEnd - this.t0;
      if (this.ctx.tally) this.ctx.tally.upstreamMs += ms;
      if (how === 'error') {
        upstreamFailed(err, req.kind, ms);
        return;
      }
      prom.upstreamRequests.inc(id, req.kind, how);
      prom.upstreamDuration.observe(ms / 1000, id, req.kind);
      deps.upstreamWindows(id)?.record(ms, how === 'aborted' ? 499 : 200);
      const tokens = done?.usage.completionTokens ?? 0;
      // Upstream-reported generation time when there is one (Ollama); else the stream's own pace.
      const evalS = (done?.timings?.evalDurationNs ?? 0) / 1e9;
      const genS = evalS > 0 ? evalS : req.stream ? (tEnd - this.tFirst) / 1000 : 0;
      if (how === 'ok' && tokens > 1 && genS > 0) {
        prom.tokensPerSecond.observe(tokens / genS, id, deps.modelLabel(this.model));
      }
    }
  }

  /** The outer stage's view of a generation that produced a first chunk (or a whole cached answer). */
  function answered(req: GenerationRequest, ctx: RequestContext, r: GenerationResult, t0: number) {
    const b = bundle(ctx.caller.surface, req.kind, deps.modelLabel(r.model), r.cache);
    const ttftMs = performance.now() - t0;
    b.ttft.observe(ttftMs / 1000);
    if (r.cache !== 'hit-l1' && r.cache !== 'hit-l2') deps.ttftWindows?.record(ttftMs, 200);
    b.countCache();
    noteCall(ctx, r.cache);
    if (!req.stream && r.chunks instanceof ChunkList) {
      // A whole answer already in memory (a cache hit) for a non-streaming caller, which
      // collects it at once: it has ended well here, so no tap (an async step per chunk).
      b.end('ok', finalChunk(r.chunks.items));
      return r;
    }
    return { chunks: new Tap(r.chunks, b), model: r.model, upstream: r.upstream, cache: r.cache };
  }

  function failedBeforeOutput(req: GenerationRequest, ctx: RequestContext, err: unknown): never {
    const surface = ctx.caller.surface;
    if (clientWentAway(err)) {
      prom.llmRequests.inc(surface, req.kind, deps.modelLabel(req.model), 'none', 'aborted');
    } else {
      prom.llmErrors.inc(surface, codeOf(err), 'before_output');
      prom.llmRequests.inc(surface, req.kind, deps.modelLabel(req.model), 'none', 'error');
    }
    throw err;
  }

  const outer: Stage = {
    name: 'metrics',
    // Not async: one reaction on next()'s promise costs less than an async frame and its await.
    generate(req, ctx, next) {
      const t0 = performance.now();
      let p: Promise<GenerationResult>;
      try {
        p = next();
      } catch (err) {
        return failedBeforeOutput(req, ctx, err);
      }
      return p.then(
        (r) => answered(req, ctx, r, t0),
        (err: unknown) => failedBeforeOutput(req, ctx, err),
      );
    },
    async embed(req, ctx, next) {
      const surface = ctx.caller.surface;
      const model = deps.modelLabel(req.model);
      try {
        const out = await next();
        const b = bundle(surface, 'embed', model, out.cache);
        b.countCache();
        noteCall(ctx, out.cache);
        b.result.ok.value++;
        b.prompt.value += out.result.promptTokens;
        windows.recordLlm(out.cache, 0);
        return out;
      } catch (err) {
        prom.llmErrors.inc(surface, codeOf(err), 'before_output');
        prom.llmRequests.inc(surface, 'embed', model, 'none', 'error');
        throw err;
      }
    },
  };

  const inner: Stage = {
    name: 'metrics-upstream',
    async generate(req, ctx, next) {
      const t0 = performance.now();
      let r;
      try {
        r = await next();
      } catch (err) {
        upstreamFailed(err, req.kind, performance.now() - t0);
        throw err;
      }
      const tFirst = performance.now();
      prom.upstreamFirstChunk.observe((tFirst - t0) / 1000, r.upstream);
      const sink = new UpstreamCallSink(req, ctx, r.upstream, r.model, t0, tFirst);
      return { chunks: new Tap(r.chunks, sink), model: r.model, upstream: r.upstream, cache: r.cache };
    },
    async embed(req, ctx, next) {
      const t0 = performance.now();
      try {
        const out = await next();
        const ms = performance.now() - t0;
        if (ctx.tally) ctx.tally.upstreamMs += ms;
        prom.upstreamRequests.inc(out.upstream, 'embed', 'ok');
        prom.upstreamDuration.observe(ms / 1000, out.upstream, 'embed');
        deps.upstreamWindows(out.upstream)?.record(ms, 200);
        return out;
      } catch (err) {
        upstreamFailed(err, 'embed', performance.now() - t0);
        throw err;
      }
    },
  };

  return { outer, inner };
}
