import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify';
import { GatewayError } from '../../errors/catalogue.js';

export interface DashboardRoutesOptions {
  /** Runs before every route of this plugin (e.g. admin auth once API keys exist). */
  preHandler?: preHandlerAsyncHookHandler;
  /** Directory holding dashboard/index.html, app.js, app.css. Default: the package's public/. */
  publicDir?: string;
}

interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The dashboard's security headers: scripts, styles and connections from this origin only (the
 * page has no inline script or style; uPlot styles through the CSSOM, which CSP allows), never
 * framed (clickjacking), no MIME sniffing, no referrer leaking the gateway's address.
 */
export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** public/ next to src/ (tsx) or dist/ (built): three levels up from http/dashboard/. */
const DEFAULT_PUBLIC = fileURLToPath(new URL('../../../public/', import.meta.url));

async function load(file: string): Promise<Asset> {
  return { body: await readFile(file), type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}

/**
 * GET /dashboard and its assets, read into memory at start-up (a missing file fails the start,
 * not the first page view). uPlot is served from node_modules: the page needs no internet.
 */
export function dashboardRoutes(opts: DashboardRoutesOptions = {}): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const dir = path.join(opts.publicDir ?? DEFAULT_PUBLIC, 'dashboard');
    const uplotDir = path.dirname(createRequire(import.meta.url).resolve('uplot'));
    const index = await load(path.join(dir, 'index.html'));
    const assets = new Map<string, Asset>([
      ['app.js', await load(path.join(dir, 'app.js'))],
      ['app.css', await load(path.join(dir, 'app.css'))],
      ['vendor/uPlot.iife.min.js', await load(path.join(uplotDir, 'uPlot.iife.min.js'))],
      ['vendor/uPlot.min.css', await load(path.join(uplotDir, 'uPlot.min.css'))],
    ]);

    if (opts.preHandler) app.addHook('preHandler', opts.preHandler);

    app.addHook('onSend', (_req, reply, payload, done) => {
      void reply.headers(DASHBOARD_SECURITY_HEADERS);
      done(null, payload);
    });
    app.get('/dashboard', async (_req, reply) =>
      reply.type(index.type).header('cache-control', 'no-cache').send(index.body),
    );
    app.get<{ Params: { '*': string } }>('/dashboard/*', async (req, reply) => {
      const a = assets.get(req.params['*']);
      if (!a)
        throw new GatewayError('SUTAZAI_ERR_NOT_FOUND', `dashboard asset '${req.params['*']}' not found`);
      return reply.type(a.type).header('cache-control', 'public, max-age=300').send(a.body);
    });
  };
}
