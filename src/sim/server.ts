import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createContext } from './context.js';
import type { SimContext } from './context.js';
import type { Exchange } from './engine.js';
import { readJson, sendJson, sendText, SimHttpError } from './http.js';
import type { JsonObject } from './http.js';
import { ollamaChat, ollamaEmbed, ollamaEmbeddings, ollamaGenerate, sendOllamaError } from './ollama.js';
import { ollamaPs, ollamaRoot, ollamaShow, ollamaTags, ollamaVersion } from './ollama-info.js';
import { ollamaCopy, ollamaCreate, ollamaDelete, ollamaPull, ollamaPush } from './ollama-admin.js';
import { openaiChat, openaiCompletions, openaiEmbeddings, openaiModel, openaiModels } from './openai.js';
import { sendOpenAIError } from './openai-render.js';
import { defaultFaults, faultProblems, resolveSimOptions } from './options.js';
import type { SimStartOptions } from './options.js';
import type { SimFaults, SimHandle } from './types.js';

export { defaultSimOptions } from './options.js';
export type { SimStartOptions } from './options.js';

type BodyHandler = (ctx: SimContext, ex: Exchange, body: JsonObject) => void;
type Handler = (ctx: SimContext, ex: Exchange) => void;

interface Route {
  methods: readonly string[];
  handle?: Handler;
  body?: BodyHandler;
}

const GET_HEAD = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/', { methods: GET_HEAD, handle: (_c, ex) => ollamaRoot(ex) }],
  ['/api/version', { methods: GET_HEAD, handle: (_c, ex) => ollamaVersion(ex) }],
  ['/api/tags', { methods: GET_HEAD, handle: ollamaTags }],
  ['/api/ps', { methods: GET_HEAD, handle: ollamaPs }],
  ['/api/show', { methods: POST, body: ollamaShow }],
  ['/api/pull', { methods: POST, body: ollamaPull }],
  ['/api/push', { methods: POST, body: ollamaPush }],
  ['/api/create', { methods: POST, body: ollamaCreate }],
  ['/api/copy', { methods: POST, body: ollamaCopy }],
  ['/api/delete', { methods: ['DELETE'], body: ollamaDelete }],
  ['/api/chat', { methods: POST, body: ollamaChat }],
  ['/api/generate', { methods: POST, body: ollamaGenerate }],
  ['/api/embed', { methods: POST, body: ollamaEmbed }],
  ['/api/embeddings', { methods: POST, body: ollamaEmbeddings }],
  ['/v1/chat/completions', { methods: POST, body: openaiChat }],
  ['/v1/completions', { methods: POST, body: openaiCompletions }],
  ['/v1/embeddings', { methods: POST, body: openaiEmbeddings }],
  ['/v1/models', { methods: GET_HEAD, handle: openaiModels }],
  ['/sim/stats', { methods: ['GET'], handle: (ctx, ex) => sendJson(ex.res, 200, ctx.stats()) }],
  [
    '/sim/faults',
    { methods: ['GET', 'POST'], body: controlFaults, handle: (ctx, ex) => sendJson(ex.res, 200, ctx.faults) },
  ],
  ['/sim/reset', { methods: POST, handle: controlReset }],
]);

function applyFaults(ctx: SimContext, f: Partial<SimFaults>): void {
  const problems = faultProblems(f);
  if (problems.length > 0) throw new SimHttpError(400, `invalid faults: ${problems.join('; ')}`);
  ctx.faults = { ...ctx.faults, ...f };
}

function controlFaults(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  applyFaults(ctx, body);
  sendJson(ex.res, 200, ctx.faults);
}

/** Zero the counters and restore the faults the simulator was started with. */
function controlReset(ctx: SimContext, ex: Exchange): void {
  ctx.resetStats();
  ctx.faults = { ...defaultFaults(), ...ctx.opts.faults };
  sendJson(ex.res, 200, { ok: true });
}

function fail(ex: Exchange, openai: boolean, err: unknown): void {
  if (ex.closed || ex.res.headersSent) {
    ex.res.destroy();
    return;
  }
  const e = err instanceof SimHttpError ? err : new SimHttpError(500, 'internal simulator error');
  if (openai) sendOpenAIError(ex, e);
  else sendOllamaError(ex, e);
}

function dispatch(ctx: SimContext, ex: Exchange, path: string): void {
  const openai = path.startsWith('/v1/');
  let route = ROUTES.get(path);
  let modelId: string | undefined;
  if (route === undefined && path.startsWith('/v1/models/')) {
    modelId = decodeURIComponent(path.slice('/v1/models/'.length));
    route = { methods: GET_HEAD, handle: (c, e) => openaiModel(c, e, modelId ?? '') };
  }
  if (route === undefined) {
    if (openai) fail(ex, true, new SimHttpError(404, `unknown route ${path}`));
    else sendText(ex.res, 404, '404 page not found');
    return;
  }
  const method = ex.req.method ?? 'GET';
  if (!route.methods.includes(method)) {
    fail(ex, openai, new SimHttpError(405, `method ${method} not allowed for ${path}`));
    return;
  }
  try {
    if (route.body !== undefined && (method === 'POST' || method === 'DELETE')) {
      const handler = route.body;
      readJson(ex.req).then(
        (body) => {
          try {
            handler(ctx, ex, body);
          } catch (err) {
            fail(ex, openai, err);
          }
        },
        (err: unknown) => fail(ex, openai, err),
      );
    } else route.handle?.(ctx, ex);
  } catch (err) {
    fail(ex, openai, err);
  }
}

function onRequest(ctx: SimContext, req: IncomingMessage, res: ServerResponse): void {
  const ex: Exchange = { req, res, t0: process.hrtime.bigint(), closed: false, onClose: undefined };
  res.once('close', () => {
    ex.closed = true;
    ex.onClose?.();
  });
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const key = path.startsWith('/v1/models/') ? '/v1/models/:id' : path;
  ctx.counters.requests[key] = (ctx.counters.requests[key] ?? 0) + 1;
  const delay = ctx.faults.slowHeadersMs;
  if (delay > 0 && !path.startsWith('/sim/')) {
    const timer = setTimeout(() => {
      ex.onClose = undefined;
      dispatch(ctx, ex, path);
    }, delay);
    ex.onClose = () => clearTimeout(timer);
    return;
  }
  dispatch(ctx, ex, path);
}

/** Start a simulator listening on opts.host:opts.port (port 0 = any free port). */
export async function startSimulator(partial: SimStartOptions = {}): Promise<SimHandle> {
  const opts = resolveSimOptions(partial);
  const ctx = createContext(opts);
  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => onRequest(ctx, req, res));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard listen address is not a place to connect to; advertise loopback instead.
  const host =
    opts.host === '0.0.0.0'
      ? '127.0.0.1'
      : opts.host === '::'
        ? '[::1]'
        : opts.host.includes(':')
          ? `[${opts.host}]`
          : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => ctx.stats(),
    resetStats: () => ctx.resetStats(),
    setFaults: (f) => {
      const problems = faultProblems(f);
      if (problems.length > 0) throw new Error(`invalid faults: ${problems.join('; ')}`);
      ctx.faults = { ...ctx.faults, ...f };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
