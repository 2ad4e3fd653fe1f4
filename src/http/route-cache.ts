import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
  preSerializationAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import { LRUCache } from 'lru-cache';

/** Route option: `config: { cache: { ttlS: 5 } }` on a GET route caches its 2xx answers in process. */
export interface RouteCacheOption {
  /** Seconds an answer is served from the cache (> 0). */
  ttlS: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    cache?: RouteCacheOption;
  }
}

export interface RouteCachePluginOptions {
  /** Distinct URLs (path + query) kept per app. Default 1000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default: performance.now. */
  now?: () => number;
}

/** Response header saying whether the answer came from the route cache. */
export const ROUTE_CACHE_HEADER = 'x-sutazai-cache';

interface Entry {
  status: number;
  /** The answer as the route's serializer wrote it: a hit sends these bytes without serializing again. */
  body: string | Buffer | ArrayBuffer;
  contentType: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

type HookList<T> = T | T[] | undefined;
const asList = <T>(h: HookList<T>): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

/**
 * The route-level cache (the seed's `@cached` decorator) for cheap GET routes such as /health
 * (5 s), /api/v1/status (10 s) and /api/v1/settings (60 s). Entries really expire: the TTL is
 * checked on every read; `Cache-Control: no-cache` on the request skips the lookup. The lookup
 * runs as the route's last preHandler, after any auth hook. The answer is stored serialized (with
 * the route's own serializer) and sent as is on hits, which still pass through onSend hooks such
 * as compression. Register it before the routes it should see (it uses onRoute).
 */
export const routeCache: FastifyPluginCallback<RouteCachePluginOptions> = (app, opts, done) => {
  const entries = new LRUCache<string, Entry>({
    max: opts.maxEntries ?? 1000,
    ttlAutopurge: false,
    allowStale: false,
    ...(opts.now ? { perf: { now: opts.now }, ttlResolution: 0 } : {}),
  });
  const served = new WeakSet<FastifyRequest>();

  app.addHook('onRoute', (route: RouteOptions) => {
    const option = route.config?.cache;
    if (!option) return;
    const methods = asList(route.method);
    if (!methods.every((m) => m === 'GET' || m === 'HEAD')) {
      throw new TypeError(`route cache: ${route.url} is not a GET route`);
    }
    if (!(Number.isFinite(option.ttlS) && option.ttlS > 0)) {
      throw new TypeError(
        `route cache: ${route.url} needs config.cache.ttlS > 0 (got ${String(option.ttlS)})`,
      );
    }
    const ttl = Math.round(option.ttlS * 1000);

    const lookup: preHandlerAsyncHookHandler = async (req, reply: FastifyReply) => {
      // A client asking for a fresh answer gets one (and it refreshes the entry).
      if (/no-cache|no-store|max-age=0/i.test(req.headers['cache-control'] ?? '')) {
        void reply.header(ROUTE_CACHE_HEADER, 'bypass');
        return;
      }
      const hit = entries.get(req.url);
      if (!hit) {
        void reply.header(ROUTE_CACHE_HEADER, 'miss');
        return;
      }
      served.add(req);
      void reply.header(ROUTE_CACHE_HEADER, 'hit').code(hit.status).type(hit.contentType);
      return reply.send(hit.body);
    };
    const store: preSerializationAsyncHookHandler<unknown> = async (req, reply, payload) => {
      if (served.has(req) || req.method !== 'GET') return payload;
      if (reply.statusCode >= 200 && reply.statusCode < 300) {
        const type = reply.getHeader('content-type');
        entries.set(
          req.url,
          {
            status: reply.statusCode,
            body: reply.serialize(payload),
            contentType: typeof type === 'string' ? type : JSON_TYPE,
          },
          { ttl },
        );
      }
      return payload;
    };
    route.preHandler = [...asList(route.preHandler), lookup];
    route.preSerialization = [...asList(route.preSerialization), store];
  });
  done();
};

// Like fastify-plugin: the onRoute hook must apply to the parent scope's routes.
Object.assign(routeCache, { [Symbol.for('skip-override')]: true });
