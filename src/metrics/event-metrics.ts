import type { Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './series-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TPS_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/**
 * The event-driven Prometheus metrics (counters and histograms updated as requests happen; see
 * series-metrics.ts for why they are not prom-client's own classes).
 * Gauges that are read at scrape time live in collectors.ts. One registry per app: tests run
 * several gateways in one process, so nothing goes into prom-client's global registry.
 */
export function createPromMetrics(registry: Registry) {
  const registers = [registry];
  return {
    httpRequests: new FastCounter({
      name: 'sutazai_http_requests_total',
      help: 'HTTP requests by surface, route pattern, method and status (499 = client went away).',
      labelNames: ['surface', 'route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new FastHistogram({
      name: 'sutazai_http_request_duration_seconds',
      help: 'HTTP request duration, first byte in to last byte out, by surface, route and status class.',
      labelNames: ['surface', 'route', 'status_class'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    httpErrors: new FastCounter({
      name: 'sutazai_http_errors_total',
      help: 'Errors rendered by a surface error handler, by error code (SUTAZAI_ERR_*).',
      labelNames: ['surface', 'code'] as const,
      registers,
    }),
    overhead: new FastHistogram({
      name: 'sutazai_gateway_overhead_seconds',
      help: 'Request time not spent waiting on the upstream (total minus upstream time); single-generation LLM requests, merged joiners excluded.',
      labelNames: ['surface', 'cache'] as const,
      buckets: OVERHEAD_BUCKETS,
      registers,
    }),
    llmRequests: new FastCounter({
      name: 'sutazai_llm_requests_total',
      help: 'LLM generations and embeddings through the pipeline, by surface, kind, model, cache outcome and result.',
      labelNames: ['surface', 'kind', 'model', 'cache', 'result'] as const,
      registers,
    }),
    llmErrors: new FastCounter({
      name: 'sutazai_llm_errors_total',
      help: 'Pipeline errors by code and phase (before_output: the client got an error status; mid_stream: after output began).',
      labelNames: ['surface', 'code', 'phase'] as const,
      registers,
    }),
    ttft: new FastHistogram({
      name: 'sutazai_llm_time_to_first_token_seconds',
      help: 'Time from entering the pipeline to the first chunk being ready, by surface, model and cache outcome.',
      labelNames: ['surface', 'model', 'cache'] as const,
      buckets: TTFT_BUCKETS,
      registers,
    }),
    tokens: new FastCounter({
      name: 'sutazai_llm_tokens_total',
      help: 'Tokens in finished generations (prompt and completion), by model and cache outcome.',
      labelNames: ['model', 'type', 'cache'] as const,
      registers,
    }),
    tokensPerSecond: new FastHistogram({
      name: 'sutazai_upstream_tokens_per_second',
      help: 'Generation speed of upstream-served answers: completion tokens / (last chunk - first chunk).',
      labelNames: ['upstream', 'model'] as const,
      buckets: TPS_BUCKETS,
      registers,
    }),
    cacheRequests: new FastCounter({
      name: 'sutazai_cache_requests_total',
      help: 'Cache outcome of each LLM request: hit (tier l1 or l2), miss, merged (joined an identical in-flight request), bypass.',
      labelNames: ['outcome', 'tier'] as const,
      registers,
    }),
    mergedRequests: new FastCounter({
      name: 'sutazai_merged_requests_total',
      help: 'Requests answered by joining an identical in-flight upstream call.',
      registers,
    }),
    upstreamRequests: new FastCounter({
      name: 'sutazai_upstream_requests_total',
      help: 'Calls made to upstreams, by upstream, kind and result (ok | error | aborted).',
      labelNames: ['upstream', 'kind', 'result'] as const,
      registers,
    }),
    upstreamErrors: new FastCounter({
      name: 'sutazai_upstream_errors_total',
      help: 'Upstream call failures by upstream and error code.',
      labelNames: ['upstream', 'code'] as const,
      registers,
    }),
    upstreamDuration: new FastHistogram({
      name: 'sutazai_upstream_request_duration_seconds',
      help: 'Upstream call duration, until the last chunk (streams included), by upstream and kind.',
      labelNames: ['upstream', 'kind'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    upstreamFirstChunk: new FastHistogram({
      name: 'sutazai_upstream_time_to_first_chunk_seconds',
      help: 'Upstream time to first chunk (connect, queue in the upstream, prompt processing).',
      labelNames: ['upstream'] as const,
      buckets: TTFT_BUCKETS,
      registers,
    }),
  };
}

export type PromMetrics = ReturnType<typeof createPromMetrics>;
