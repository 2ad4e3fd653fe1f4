import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../errors/catalogue.js';

/** starting → ready → draining; /ready answers 200 only in `ready`, /live always. */
export type ReadinessState = 'starting' | 'ready' | 'draining';

export interface DrainOptions {
  /** How long to keep serving (with /ready at 503) before the listener closes, ms. */
  delayMs: number;
  /** From the listener closing, how long in-flight requests and streams may finish, ms. */
  graceMs: number;
}

/** Readiness and the SIGTERM sequence of one gateway. */
export interface Drain {
  state(): ReadinessState;
  /** Becomes ready once `warm` settles either way (a down upstream is not a reason to be unready). */
  readyWhen(warm: Promise<unknown>): void;
  /**
   * 1. /ready → 503 and every response carries `Connection: close` (clients stop reusing
   *    connections to this process); keep serving for `delayMs` so balancers polling /ready move on.
   * 2. Close the listener; a request still arriving on an open connection gets 503
   *    SUTAZAI_ERR_SHUTTING_DOWN with Retry-After. In-flight requests and streams finish.
   * 3. After `graceMs`, streams still running end with their surface's error frame
   *    (SUTAZAI_ERR_SHUTTING_DOWN), then connections still open are cut. Resolves once none is left and the app
   *    is closed (its onClose hooks have run).
   */
  drain(): Promise<void>;
}

const shutdownCut = (graceMs: number) =>
  new GatewayError(
    'SUTAZAI_ERR_SHUTTING_DOWN',
    `the gateway is shutting down and the stream did not finish within the ${graceMs} ms grace period; retry (another instance will answer)`,
    { retryAfter: 1 },
  );

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const REFUSED = JSON.stringify({
  error: {
    code: 'SUTAZAI_ERR_SHUTTING_DOWN',
    message: 'this gateway is shutting down; retry (another instance will answer)',
  },
});

/**
 * Adds GET /ready and takes over the server's 'request' listener only while draining, so the hot
 * path costs nothing extra (an onRequest hook would be a step for every request). Call before
 * listen. Fastify's own return503OnClosing (no Retry-After, not our envelope) never fires: its
 * handler no longer receives requests once the refusing listener is in place.
 */
export function installDrain(app: FastifyInstance, opts: DrainOptions): Drain {
  let state: ReadinessState = 'starting';
  let draining: Promise<void> | undefined;

  // Liveness: the event loop answers. Not /health, which is 503 when every upstream is down:
  // restarting gateways does not bring an upstream back, and it drops in-flight requests.
  app.get('/live', () => ({ status: state }));
  app.get('/ready', (_req, reply) => {
    void reply.code(state === 'ready' ? 200 : 503);
    if (state !== 'ready') void reply.header('retry-after', '1');
    return { status: state };
  });

  const server = app.server;
  const reroute = (fn: RequestListener) => {
    const original = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', fn);
    return original;
  };

  async function run(): Promise<void> {
    state = 'draining';
    const fastify = reroute((req, res) => {
      res.setHeader('connection', 'close');
      for (const l of fastify) l.call(server, req, res);
    });
    if (opts.delayMs > 0) await new Promise((r) => setTimeout(r, opts.delayMs));

    reroute((req, res) => {
      req.resume();
      const id = req.headers['x-request-id'];
      res.writeHead(503, {
        'content-type': 'application/json; charset=utf-8',
        'retry-after': '1',
        connection: 'close',
        ...(typeof id === 'string' ? { 'x-request-id': id } : {}),
      });
      res.end(REFUSED);
    });
    // Keep-alive connections become idle as their last response finishes; close them as they do.
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      // A stream cut at the socket looks, to its client, like a network fault mid-answer; one
      // error frame in its own protocol says what happened (finding 8). Give the frames a moment
      // to reach the socket before the connections go.
      const streams = app.sutazaiStreams;
      const cut = streams && streams.size > 0 ? streams.cutAll(shutdownCut(opts.graceMs), 1000) : undefined;
      if (cut) void cut.then(() => server.closeAllConnections());
      else server.closeAllConnections();
    }, opts.graceMs);
    try {
      // Fastify's close runs the preClose hooks (they end endless streams such as the metrics
      // SSE), then closes the listener and waits for the last connection.
      await app.close();
    } finally {
      clearInterval(reaper);
      clearTimeout(deadline);
    }
  }

  return {
    state: () => state,
    readyWhen(warm) {
      const mark = () => {
        if (state === 'starting') state = 'ready';
      };
      warm.then(mark, mark);
    },
    drain() {
      draining ??= run();
      return draining;
    },
  };
}
