import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { toGatewayError } from '../http/errors.js';
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
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const UNMATCHED = '<unmatched>';

function classify(route: string | undefined): RouteInfo {
  if (route === undefined) return { surface: 'system', route: UNMATCHED, traffic: true };
  if (MONITORING_ROUTES.includes(route) || route.startsWith('/dashboard/')) {
    return { surface: 'monitoring', route, traffic: false };
  }
  const surface = route.startsWith('/api/v1/')
    ? 'v1'
    : route.startsWith('/v1/')
      ? 'openai'
      : route.startsWith('/api/')
        ? 'ollama'
        : 'system';
  return { surface, route, traffic: true };
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

  app.addHook('onRequest', (req, reply, done) => {
    const t0 = performance.now();
    const ri = info(req.routeOptions.url);
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    const state: RequestState = { upstreamMs: 0, calls: 0 };
    const id = req.id;
    const tracked = !inflight.has(id);
    if (tracked) inflight.set(id, state);
    const res = reply.raw;
    res.once('close', () => {
      if (tracked) inflight.delete(id);
      const ms = performance.now() - t0;
      const status = res.writableFinished ? res.statusCode : 499;
      prom.httpRequests.labels(ri.surface, ri.route, method, String(status)).inc();
      prom.httpDuration.labels(ri.surface, ri.route, `${Math.floor(status / 100)}xx`).observe(ms / 1000);
      if (ri.traffic) windows.record(ms, status);
      if (state.calls === 1 && state.cache !== undefined && state.cache !== 'merged' && status < 400) {
        prom.overhead.labels(ri.surface, state.cache).observe(Math.max(0, ms - state.upstreamMs) / 1000);
      }
    });
    done();
  });

  app.addHook('onError', (req, _reply, err, done) => {
    prom.httpErrors.labels(info(req.routeOptions.url).surface, toGatewayError(err).code).inc();
    done();
  });
}
