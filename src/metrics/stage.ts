import { performance } from 'node:perf_hooks';
import { isGatewayError } from '../errors/catalogue.js';
import type { CacheStatus, Stage } from '../pipeline/pipeline.js';
import type { Chunk, Usage } from '../pipeline/types.js';
import type { CounterSeries, HistogramHandle } from './fast.js';
import type { PromMetrics } from './prom.js';
import type { TrafficWindows } from './windows.js';

/** What the pipeline learnt about one HTTP request, read by the HTTP hook when it finishes. */
export interface RequestState {
  /** Time spent in upstream calls made for this request, ms. */
  upstreamMs: number;
  /** Pipeline calls (generations or embeddings) made by this request. */
  calls: number;
  cache?: CacheStatus;
}

export interface MetricsStageDeps {
  prom: PromMetrics;
  windows: TrafficWindows;
  /** Per-upstream windows (requests, errors, latency) for the JSON view; undefined = unknown id. */
  upstreamWindows(id: string): TrafficWindows | undefined;
  /** Bounded model label: a catalog model name, else "other". */
  modelLabel(model: string): string;
  /** In-flight HTTP requests by request id (filled by the HTTP hook). */
  inflight: ReadonlyMap<string, RequestState>;
}

type End = 'ok' | 'error' | 'aborted';

/** Wrap a chunk stream to see its chunks and how it ended, without an extra async generator. */
function observe(
  src: AsyncIterable<Chunk>,
  onChunk: (c: Chunk) => void,
  onEnd: (how: End, err?: unknown) => void,
): AsyncIterable<Chunk> {
  return {
    [Symbol.asyncIterator]() {
      const it = src[Symbol.asyncIterator]();
      let ended = false;
      let sawDone = false;
      const end = (how: End, err?: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(how, err);
      };
      return {
        next() {
          return it.next().then(
            (r) => {
              if (r.done) end('ok');
              else {
                if (r.value.type === 'done') sawDone = true;
                onChunk(r.value);
              }
              return r;
            },
            (err: unknown) => {
              end('error', err);
              throw err;
            },
          );
        },
        return(value?: unknown) {
          end(sawDone ? 'ok' : 'aborted');
          return it.return ? it.return(value) : Promise.resolve({ done: true as const, value: undefined });
        },
      };
    },
  };
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
  const { prom, windows, inflight } = deps;

  /** Series of one (surface, kind, model, cache outcome), looked up once per request. */
  interface Bundle {
    ttft: HistogramHandle;
    cache: CounterSeries;
    merged?: CounterSeries;
    result: Record<End, CounterSeries>;
    prompt: CounterSeries;
    completion: CounterSeries;
  }
  const bundles = new Map<string, Bundle>();
  function bundle(surface: string, kind: string, model: string, cache: CacheStatus): Bundle {
    const key = `${surface}|${kind}|${model}|${cache}`;
    let b = bundles.get(key);
    if (b === undefined) {
      b = {
        ttft: prom.ttft.handle(surface, model, cache),
        cache: prom.cacheRequests.handle(cacheOutcome(cache), cacheTier(cache)),
        ...(cache === 'merged' ? { merged: prom.mergedRequests.handle() } : {}),
        result: {
          ok: prom.llmRequests.handle(surface, kind, model, cache, 'ok'),
          error: prom.llmRequests.handle(surface, kind, model, cache, 'error'),
          aborted: prom.llmRequests.handle(surface, kind, model, cache, 'aborted'),
        },
        prompt: prom.tokens.handle(model, 'prompt', cache),
        completion: prom.tokens.handle(model, 'completion', cache),
      };
      bundles.set(key, b);
    }
    return b;
  }
  function countCache(b: Bundle) {
    b.cache.value++;
    if (b.merged) b.merged.value++;
  }

  function noteCall(requestId: string, cache: CacheStatus) {
    const st = inflight.get(requestId);
    if (st) {
      st.calls++;
      st.cache = cache;
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

  const outer: Stage = {
    name: 'metrics',
    async generate(req, ctx, next) {
      const surface = ctx.caller.surface;
      const t0 = performance.now();
      let r;
      try {
        r = await next();
      } catch (err) {
        prom.llmErrors.inc(surface, codeOf(err), 'before_output');
        prom.llmRequests.inc(surface, req.kind, deps.modelLabel(req.model), 'none', 'error');
        throw err;
      }
      const cache = r.cache;
      const b = bundle(surface, req.kind, deps.modelLabel(r.model), cache);
      b.ttft.observe((performance.now() - t0) / 1000);
      countCache(b);
      noteCall(ctx.caller.requestId, cache);
      let usage: Usage | undefined;
      const chunks = observe(
        r.chunks,
        (c) => {
          if (c.type === 'done') usage = c.usage;
        },
        (how, err) => {
          b.result[how].value++;
          if (how === 'error') prom.llmErrors.inc(surface, codeOf(err), 'mid_stream');
          if (usage) {
            b.prompt.value += usage.promptTokens;
            b.completion.value += usage.completionTokens;
          }
          windows.recordLlm(cache, usage?.completionTokens ?? 0);
        },
      );
      return { ...r, chunks };
    },
    async embed(req, ctx, next) {
      const surface = ctx.caller.surface;
      const model = deps.modelLabel(req.model);
      try {
        const out = await next();
        const b = bundle(surface, 'embed', model, out.cache);
        countCache(b);
        noteCall(ctx.caller.requestId, out.cache);
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
      const id = r.upstream;
      prom.upstreamFirstChunk.observe((tFirst - t0) / 1000, id);
      let done: Extract<Chunk, { type: 'done' }> | undefined;
      const chunks = observe(
        r.chunks,
        (c) => {
          if (c.type === 'done') done = c;
        },
        (how, err) => {
          const tEnd = performance.now();
          const ms = tEnd - t0;
          const st = inflight.get(ctx.caller.requestId);
          if (st) st.upstreamMs += ms;
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
          const genS = evalS > 0 ? evalS : req.stream ? (tEnd - tFirst) / 1000 : 0;
          if (how === 'ok' && tokens > 1 && genS > 0) {
            prom.tokensPerSecond.observe(tokens / genS, id, deps.modelLabel(r.model));
          }
        },
      );
      return { ...r, chunks };
    },
    async embed(req, ctx, next) {
      const t0 = performance.now();
      try {
        const out = await next();
        const ms = performance.now() - t0;
        const st = inflight.get(ctx.caller.requestId);
        if (st) st.upstreamMs += ms;
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
