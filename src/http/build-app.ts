import { randomUUID } from 'node:crypto';
import { constants as zlib } from 'node:zlib';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway/gateway.js';
import { routeCache } from './route-cache.js';
import { GatewayError } from '../errors/catalogue.js';
import { responseFinished } from './inflight.js';
import { boundedJsonParser } from './json-body.js';
import { instrumentHttp } from './metrics/instrument.js';
import { v1ErrorHandler } from './v1/render.js';
import { createOriginGuard } from './origin-guard.js';
import { ollamaErrorHandler } from './ollama/errors.js';
import { installAuth } from './auth/hook.js';
import { lazyChildLogger } from './request-logger.js';
import { createOpenStreams } from './stream/open-streams.js';
import { ROUTE_GROUPS } from './routes.js';

const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;

/** Builds the Fastify app from the gateway's services. Never listens: the CLI (or a test) does that. */
export async function buildApp(services: Gateway): Promise<FastifyInstance> {
  const { config, logger } = services;
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: lazyChildLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: config.bodyLimit,
    // Honour a sane incoming x-request-id, otherwise make one.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID_RE.test(h) ? h : randomUUID();
    },
    return503OnClosing: true,
    // A client sending its request slowly (slow loris, a trickled body) is cut off: Node answers
    // 408 and closes. Headers get at most 10 s of it (a 50 MiB image body may need the rest).
    requestTimeout: config.requestTimeoutMs,
    // Node checks these bounds every connectionsCheckingInterval (30 s by default, longer than
    // the bound itself); checking each second keeps a 408 within about a second of its time.
    http: {
      headersTimeout: Math.min(10_000, config.requestTimeoutMs),
      connectionsCheckingInterval: 1000,
    },
    keepAliveTimeout: 72_000,
  });

  // [metrics] request counts, latency and traffic windows (hooks must precede the routes)
  const counter = services.metrics ? instrumentHttp(app, services.metrics.requests) : undefined;
  // One onRequest and one onResponse hook for everything per request (each hook costs a step of
  // Fastify's hook runner; async ones a promise too). The id is a reply header, so Node writes the
  // head in one go (setHeader on the raw response would send every writeHead down its slow path,
  // a validated copy per header); streamed replies copy the reply headers (openRawStream).
  // [origin-guard] Host and Origin checks against DNS rebinding and cross-site requests (403).
  const guard = createOriginGuard({
    bindHost: config.host,
    allowedOrigins: config.allowedOrigins,
    allowedHosts: config.allowedHosts,
  });
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    counter?.start(req, reply);
    done(guard.check(req.method, req.headers));
  });
  // CORS is closed unless SUTAZAI_ORIGINS lists origins: only those get CORS headers and preflights.
  if (config.allowedOrigins.length > 0) {
    await app.register(cors, {
      origin: (origin, cb) => cb(null, origin !== undefined && guard.listed(origin)),
      exposedHeaders: ['x-request-id', 'x-sutazai-cache', 'retry-after'],
      maxAge: 600,
    });
  }
  // One access line per request: at warn for 5xx, at debug otherwise (so it costs nothing at info).
  const debug = logger.level === 'debug' || logger.level === 'trace';
  app.addHook('onResponse', (req, reply, done) => {
    responseFinished(reply.raw);
    counter?.finish(req, reply);
    const status = reply.statusCode;
    if (status >= 500)
      req.log.warn({ method: req.method, url: req.url, status, ms: reply.elapsedTime }, 'response');
    else if (debug)
      req.log.debug({ method: req.method, url: req.url, status, ms: reply.elapsedTime }, 'response');
    done();
  });

  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
    // Event streams and NDJSON are written raw and must never be compressed.
    customTypes: /^(application\/json|text\/(html|plain|css|javascript)|application\/javascript|image\/svg)/,
  });

  // JSON bodies with a nesting bound (the default parser otherwise; Ollama's surface reuses it).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    boundedJsonParser(app, config.maxJsonDepth),
  );
  app.setErrorHandler(v1ErrorHandler);
  // An unknown path or method answers in the envelope of the surface its prefix belongs to
  // (`/v1/*` has its own handler in its scope): `/api/v1/*` v1, other `/api/*` Ollama's.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const err = new GatewayError('SUTAZAI_ERR_NOT_FOUND', `route ${req.method} ${path} not found`);
    const ollama = path.startsWith('/api/') && !path.startsWith('/api/v1/') && path !== '/api/v1';
    (ollama ? ollamaErrorHandler : v1ErrorHandler)(err, req, reply);
  });

  // [open-streams] streams being written, so a shutdown past its grace period ends them cleanly
  app.decorate('sutazaiStreams', createOpenStreams());

  // [auth] API keys (before the route cache: a cached GET is still only for callers with a key)
  installAuth(app, { keys: services.keys, required: services.auth.required });

  // [route-cache] route-level GET cache hook
  await app.register(routeCache);

  // [routes] every route group, in the order src/http/routes.ts lists them
  for (const group of ROUTE_GROUPS) {
    const plugin = group.plugin(services);
    if (plugin) await app.register(plugin);
  }

  return app;
}
