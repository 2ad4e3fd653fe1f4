import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CounterSeries, HistogramHandle } from '../../metrics/series-metrics.js';
import type { CacheStatus, RequestTally } from '../../pipeline/pipeline.js';
import type { PromMetrics } from '../../metrics/event-metrics.js';
import { MONITORING_ROUTES, type TrafficWindows } from '../../metrics/windows.js';
import { toGatewayError } from '../errors.js';
import { watchCutOff, type CutOffWatcher } from '../inflight.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's metrics record while metrics are on (see requestContext); else undefined. */
    sutazaiTally?: RequestTally | null;
  }
}

interface RouteInfo {
  surface: string;
  route: string;
  traffic: boolean;
  /** Metric series of this route by `status * 16 + method index`, so the hot path only does a lookup. */
  series: Map<number, { count: CounterSeries; duration: HistogramHandle }>;
  /** Gateway-overhead series of this route's surface, by cache outcome. */
  overhead: Map<CacheStatus, HistogramHandle>;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'OTHER'];
const UNMATCHED = '<unmatched>';

function classify(route: string | undefined): RouteInfo {
  const series = new Map<number, { count: CounterSeries; duration: HistogramHandle }>();
  const overhead = new Map<CacheStatus, HistogramHandle>();
  if (route === undefined) return { surface: 'system', route: UNMATCHED, traffic: true, series, overhead };
  if (MONITORING_ROUTES.includes(route) || route.startsWith('/dashboard/')) {
    return { surface: 'monitoring', route, traffic: false, series, overhead };
  }
  const surface = route.startsWith('/api/v1/')
    ? 'v1'
    : route.startsWith('/v1/messages')
      ? 'anthropic'
      : route.startsWith('/v1/responses')
        ? 'responses'
        : route.startsWith('/v1/')
          ? 'openai'
          : route.startsWith('/api/')
            ? 'ollama'
            : 'system';
  return { surface, route, traffic: true, series, overhead };
}

export interface HttpInstrumentDeps {
  prom: PromMetrics;
  windows: TrafficWindows;
  /** Latency the gateway added (total − upstream) to answered LLM requests, for alert rules. */
  addedWindows?: TrafficWindows;
}

/** One request's record: its tally (shared with the pipeline through requestContext) and timing. */
class Pending implements RequestTally, CutOffWatcher {
  upstreamMs = 0;
  calls = 0;
  cache: CacheStatus | undefined = undefined;
  counted = false;
  constructor(
    readonly t0: number,
    readonly ri: RouteInfo,
    readonly m: number,
    private readonly count: (p: Pending, status: number) => void,
  ) {}
  /** The connection closed before the response finished: the client went away (499). */
  responseCutOff(): void {
    this.count(this, 499);
  }
}

/** Per-request calls the app's hooks make (see instrumentHttp). */
export interface RequestCounter {
  /** From the onRequest hook: start timing and counting this request. */
  start(req: FastifyRequest, reply: FastifyReply): void;
  /** From the onResponse hook: the response finished. */
  finish(req: FastifyRequest, reply: FastifyReply): void;
}

/**
 * Count every request when its response finishes, or when its connection closes first (status
 * 499), by route pattern, so label values stay bounded whatever the URLs. Returns what the app's
 * onRequest and onResponse hooks call (hooks of its own cost more than the work they do); must
 * be set up before the routes.
 *
 * Per request this costs one small object: no listener or closure of its own (cut-off responses
 * are found by the connection's listener, src/http/inflight.ts).
 */
export function instrumentHttp(app: FastifyInstance, deps: HttpInstrumentDeps): RequestCounter {
  const { prom, windows } = deps;
  const routes = new Map<string | undefined, RouteInfo>();
  const info = (route: string | undefined): RouteInfo => {
    let r = routes.get(route);
    if (r === undefined) {
      r = classify(route);
      routes.set(route, r);
    }
    return r;
  };

  const seriesOf = (ri: RouteInfo, status: number, m: number) => {
    const key = status * 16 + m;
    let s = ri.series.get(key);
    if (s === undefined) {
      s = {
        count: prom.httpRequests.handle(ri.surface, ri.route, METHODS[m] ?? 'OTHER', String(status)),
        duration: prom.httpDuration.handle(ri.surface, ri.route, `${Math.floor(status / 100)}xx`),
      };
      // Status codes are bounded (100-599); anything else is counted but not cached.
      if (status >= 100 && status < 600) ri.series.set(key, s);
    }
    return s;
  };

  const overheadOf = (ri: RouteInfo, cache: CacheStatus) => {
    let h = ri.overhead.get(cache);
    if (h === undefined) {
      h = prom.overhead.handle(ri.surface, cache);
      ri.overhead.set(cache, h);
    }
    return h;
  };

  // Once per response, finished or cut off.
  function count(p: Pending, status: number) {
    if (p.counted) return;
    p.counted = true;
    const ms = performance.now() - p.t0;
    const series = seriesOf(p.ri, status, p.m);
    series.count.value++;
    series.duration.observe(ms / 1000);
    if (p.ri.traffic) windows.record(ms, status);
    if (p.calls === 1 && p.cache !== undefined && p.cache !== 'merged' && status < 400) {
      const addedMs = Math.max(0, ms - p.upstreamMs);
      overheadOf(p.ri, p.cache).observe(addedMs / 1000);
      deps.addedWindows?.record(addedMs, status);
    }
  }

  app.decorateRequest('sutazaiTally', null);
  app.addHook('onError', (req, _reply, err, done) => {
    prom.httpErrors.inc(info(req.routeOptions.url).surface, toGatewayError(err).code);
    done();
  });

  return {
    start(req, reply) {
      const mi = METHODS.indexOf(req.method);
      const p = new Pending(
        performance.now(),
        info(req.routeOptions.url),
        mi < 0 ? METHODS.length - 1 : mi,
        count,
      );
      req.sutazaiTally = p;
      watchCutOff(reply.raw, p);
    },
    finish(req, reply) {
      const p = req.sutazaiTally;
      if (p instanceof Pending) count(p, reply.statusCode);
    },
  };
}
