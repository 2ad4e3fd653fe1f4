import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors/catalogue.js';

/**
 * Who may call the gateway from a browser (issue 23, finding 10).
 *
 * - Host: when the gateway listens on a loopback address, a request whose `Host` names anything
 *   but a loopback name (or an entry of SUTAZAI_ALLOWED_HOSTS) is refused. A page that rebinds its
 *   own DNS name to 127.0.0.1 (DNS rebinding) still sends its own name as Host, so it cannot reach
 *   the gateway. A request without Host (HTTP/1.0, raw sockets) is no browser's and passes.
 * - Origin: a state-changing request (any method but GET/HEAD/OPTIONS) that carries an `Origin`
 *   must come from the gateway's own origin or one listed in SUTAZAI_ORIGINS. Browsers always send
 *   Origin on a cross-site POST (even a "simple" text/plain one, which needs no preflight), so a
 *   foreign page cannot run a generation or clear the cache. Clients that are not browsers
 *   (curl, SDKs) send no Origin and pass, whatever their content type.
 */
export interface OriginGuard {
  /** The reason to refuse this request, or undefined to let it through. */
  check(method: string, headers: IncomingHttpHeaders): GatewayError | undefined;
  /** True when `origin` is listed in SUTAZAI_ORIGINS (CORS answers only those). */
  listed(origin: string): boolean;
}

export interface OriginGuardOptions {
  /** The address the gateway listens on (SUTAZAI_HOST). */
  bindHost: string;
  /** SUTAZAI_ORIGINS: `scheme://host[:port]`, `*` matching any run of characters. */
  allowedOrigins: readonly string[];
  /** SUTAZAI_ALLOWED_HOSTS: extra Host names (no port); `*` turns the Host check off. */
  allowedHosts: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isLoopbackName(name: string): boolean {
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    name === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(name)
  );
}

function wildcard(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** `host[:port]` of a Host header → the host name, lower case (IPv6 keeps its brackets). */
function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function createOriginGuard(opts: OriginGuardOptions): OriginGuard {
  const origins = opts.allowedOrigins.map((o) => o.trim()).filter((o) => o !== '');
  const anyOrigin = origins.includes('*');
  const originRes = origins.map(wildcard);
  const hosts = new Set(opts.allowedHosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== ''));
  // The Host check is on when bound to loopback, or whenever a list is given; `*` turns it off.
  const checkHost = !hosts.has('*') && (isLoopbackName(hostName(opts.bindHost)) || hosts.size > 0);

  const listed = (origin: string) => anyOrigin || originRes.some((re) => re.test(origin.toLowerCase()));

  // Host headers already accepted, verbatim: the hot path is one Set lookup (clients send the
  // same few values). Bounded, so a client cycling through names cannot grow it.
  const accepted = new Set<string>();
  function hostRefused(host: string | undefined): GatewayError | undefined {
    if (!checkHost || host === undefined || host === '' || accepted.has(host)) return undefined;
    const name = hostName(host);
    if (isLoopbackName(name) || hosts.has(name)) {
      if (accepted.size < 64) accepted.add(host);
      return undefined;
    }
    return new GatewayError(
      'SUTAZAI_ERR_HOST_NOT_ALLOWED',
      `Host '${name}' is not allowed: this gateway answers loopback names only; ` +
        'add the name to SUTAZAI_ALLOWED_HOSTS to serve it',
    );
  }

  return {
    listed,
    check(method, headers) {
      const refused = hostRefused(headers.host);
      if (refused) return refused;
      const origin = headers.origin;
      if (origin === undefined || SAFE_METHODS.has(method)) return undefined;
      if (listed(origin)) return undefined;
      // Same origin (the dashboard calling its own gateway): the Origin's host is the Host asked.
      if (headers.host !== undefined && URL.canParse(origin)) {
        const u = new URL(origin);
        if ((u.protocol === 'http:' || u.protocol === 'https:') && u.host === headers.host.toLowerCase())
          return undefined;
      }
      return new GatewayError(
        'SUTAZAI_ERR_ORIGIN_NOT_ALLOWED',
        `Origin '${origin.slice(0, 200)}' may not call this gateway from a browser; ` +
          'list it in SUTAZAI_ORIGINS to allow it',
      );
    },
  };
}
