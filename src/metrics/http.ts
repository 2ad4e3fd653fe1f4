import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { toGatewayError } from '../http/errors.js';
import type { CounterSeries, HistogramHandle } from './fast.js';
import type { PromMetrics } from './prom.js';
import type { RequestState } from './stage.js';
import type { TrafficWindows } from './windows.js';

/**
 * Routes that monitoring tools poll. They are counted in Prometheus (label surface="monitoring")
 * but left out of the traffic windows, so a dashboard watching an idle gateway does not see its
 * own polls as traffic (the seed's monitor did).
 */
export const MONITORING_ROUTES: readonly string[] = [
  '/health',
  '/metrics',
  '/api/v1/metrics',
  '/api/v1/metrics/stream',
  '/api/v1/alerts',
  '/dashboard',
  '/dashboard/*',
];

interface RouteInfo {
  surface: string;
  route: string;
  traffic: boolean;
  /** Metric series of this route by `status * 16 + method index`, so the hot path only does a lookup. */
  series: Map<number, { count: CounterSeries; duration: HistogramHandle }>;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'OTHER'];
const UNMATCHED = '<unmatched>';

function classify(route: string | undefined): RouteInfo {
  const series = new Map<number, { count: CounterSeries; duration: HistogramHandle }>();
  if (route === undefined) return { surface: 'system', route: UNMATCHED, traffic: true, series };
  if (MONITORING_ROUTES.includes(route) || route.startsWith('/dashboard/')) {
    return { surface: 'monitoring', route, traffic: false, series };
  }
  const surface = route.startsWith('/api/v1/')
    ? 'v1'
    : route.startsWith('/v1/')
      ? 'openai'
      : route.startsWith('/api/')
        ? 'ollama'
        : 'system';
  return { surface, route, traffic: true, series };
}

export interface HttpInstrumentDeps {
  prom: PromMetrics;
  windows: TrafficWindows;
  inflight: Map<string, RequestState>;
}

/**
 * Count every request when its response closes (finished, or cut off: status 499), by route
 * pattern, so label values stay bounded whatever the URLs. Must be added before the routes.
 */
export function instrumentHttp(app: FastifyInstance, deps: HttpInstrumentDeps): void {
  const { prom, windows, inflight } = deps;
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

  app.addHook('onRequest', (req, reply, done) => {
    const t0 = performance.now();
    const ri = info(req.routeOptions.url);
    const mi = METHODS.indexOf(req.method);
    const m = mi < 0 ? METHODS.length - 1 : mi;
    const state: RequestState = { upstreamMs: 0, calls: 0 };
    const id = req.id;
    const tracked = !inflight.has(id);
    if (tracked) inflight.set(id, state);
    const res = reply.raw;
    // 'close' fires exactly once per response, finished or cut off.
    res.on('close', () => {
      if (tracked) inflight.delete(id);
      const ms = performance.now() - t0;
      const status = res.writableFinished ? res.statusCode : 499;
      const series = seriesOf(ri, status, m);
      series.count.value++;
      series.duration.observe(ms / 1000);
      if (ri.traffic) windows.record(ms, status);
      if (state.calls === 1 && state.cache !== undefined && state.cache !== 'merged' && status < 400) {
        prom.overhead.observe(Math.max(0, ms - state.upstreamMs) / 1000, ri.surface, state.cache);
      }
    });
    done();
  });

  app.addHook('onError', (req, _reply, err, done) => {
    prom.httpErrors.inc(info(req.routeOptions.url).surface, toGatewayError(err).code);
    done();
  });
}
