import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyService, Principal } from '../../auth/service.js';
import { GatewayError } from '../../errors/catalogue.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent this request once its key is checked; null = no key checked (auth off, public route). */
    sutazaiPrincipal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route needs the admin key (SUTAZAI_ADMIN_KEY), whatever the auth mode. */
    admin?: boolean;
    /** The route answers without a key even when keys are required (probes, the dashboard page). */
    public?: boolean;
  }
}

/** Routes every caller may reach: liveness/readiness probes, the description, the dashboard page. */
const PUBLIC_ROUTES = new Set(['/', '/health', '/ready', '/api/version']);
const isPublic = (url: string | undefined) =>
  url !== undefined && (PUBLIC_ROUTES.has(url) || url === '/dashboard' || url.startsWith('/dashboard/'));

const unauthorized = (message: string) => new GatewayError('SUTAZAI_ERR_UNAUTHORIZED', message);
const MISSING = 'missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`';

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key` (Anthropic clients). */
export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    if (auth.length > 7 && auth.charCodeAt(6) === 32 && /^bearer$/i.test(auth.slice(0, 6)))
      return auth.slice(7).trim();
    return undefined;
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x !== '' ? x : undefined;
}

export interface AuthHookOptions {
  keys: KeyService;
  /** Every non-public route needs a key (SUTAZAI_AUTH, see src/auth/mode.ts). */
  required: boolean;
}

/**
 * One onRequest hook, registered before every route group: checks the key and attaches the
 * principal. Rejections are thrown into the route's own Fastify scope, so each surface answers in
 * its own envelope (v1, OpenAI, Ollama, and any surface added later that sets its error handler).
 * Routes flagged `config: { admin: true }` need the admin key; with auth off they are open only
 * while no SUTAZAI_ADMIN_KEY is set. A cached key costs a SHA-256 and a map lookup: no database.
 */
export function installAuth(app: FastifyInstance, opts: AuthHookOptions): void {
  const { keys, required } = opts;
  app.decorateRequest('sutazaiPrincipal', null);
  app.addHook('onRequest', (req, _reply, done) => {
    const ro = req.routeOptions;
    const adminRoute = ro.config?.admin === true;
    if (
      !adminRoute &&
      (!required || req.method === 'OPTIONS' || ro.config?.public === true || isPublic(ro.url))
    )
      return done();
    if (adminRoute && !required && !keys.adminConfigured) return done();
    const presented = presentedKey(req);
    if (presented === undefined) return done(unauthorized(MISSING));
    const finish = (p: Principal | undefined) => {
      if (p === undefined) return done(unauthorized('invalid API key (unknown, revoked or expired)'));
      if (adminRoute && !p.admin)
        return done(new GatewayError('SUTAZAI_ERR_FORBIDDEN', `${req.method} ${ro.url} needs the admin key`));
      req.sutazaiPrincipal = p;
      done();
    };
    let p: ReturnType<KeyService['authenticate']>;
    try {
      p = keys.authenticate(presented);
    } catch (err) {
      return done(err as Error);
    }
    if (p instanceof Promise) p.then(finish, done);
    else finish(p);
  });
}
