import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext, RequestTally } from '../pipeline/pipeline.js';
import { ClientSignal, type CancelSignal } from '../pipeline/cancel.js';
import type { Caller } from '../pipeline/types.js';
import { watchCutOff, type CutOffWatcher } from './inflight.js';
import { holdStreamOpen } from './stream/held.js';

/** The abort reason: an AbortError, which the metrics count as "aborted" rather than as a failure. */
const clientDisconnected = () => new DOMException('client disconnected', 'AbortError');

/**
 * The pipeline context of one HTTP request. Its signal aborts when the client goes away before
 * the response has been fully written, which cancels the upstream request.
 *
 * The signal is a ClientSignal (a plain object, not an AbortController: see pipeline/cancel.ts),
 * made on first use, and only then does the context watch for the client leaving (through the
 * connection's listener, src/http/inflight.ts): a cache hit never reads it and costs neither. A
 * signal first read after the client left comes back already aborted.
 */
class HttpRequestContext implements RequestContext, CutOffWatcher {
  readonly caller: Caller;
  readonly tally: RequestTally | undefined;
  readonly cacheControl: string | undefined;
  private ac: ClientSignal | undefined = undefined;

  private readonly res: ServerResponse;

  constructor(req: FastifyRequest, reply: FastifyReply, surface: Caller['surface']) {
    this.res = reply.raw;
    const p = req.sutazaiPrincipal;
    const client = req.ip;
    this.caller =
      p === null
        ? { requestId: req.id, surface, client }
        : p.key === undefined
          ? { requestId: req.id, surface, client, keyId: p.keyId }
          : { requestId: req.id, surface, client, keyId: p.keyId, key: p.key };
    this.tally = req.sutazaiTally ?? undefined;
    this.cacheControl = req.headers['cache-control'];
    // Own properties, not methods: the cache stage passes `{ ...ctx, signal }` to a merged call.
    this.holdOpen = (keepAliveMs) => holdStreamOpen(reply, surface, keepAliveMs);
    this.serverTiming = (queueMs, upstreamMs) => {
      if (reply.sent) return;
      const gatewayMs = Math.max(0, reply.elapsedTime - queueMs - upstreamMs);
      void reply.header(
        'server-timing',
        `queue;dur=${queueMs.toFixed(1)}, upstream;dur=${upstreamMs.toFixed(1)}, gateway;dur=${gatewayMs.toFixed(1)}`,
      );
    };
  }

  readonly holdOpen: (keepAliveMs: number) => void;
  readonly serverTiming: (queueMs: number, upstreamMs: number) => void;

  responseCutOff(): void {
    this.ac?.abort(clientDisconnected());
  }

  get signal(): CancelSignal {
    if (this.ac === undefined) {
      this.ac = new ClientSignal();
      // Not watchable: the connection is already gone (the client left), or the response is done.
      if (!watchCutOff(this.res, this) && !this.res.writableFinished) this.ac.abort(clientDisconnected());
    }
    return this.ac;
  }
}

export function requestContext(
  req: FastifyRequest,
  reply: FastifyReply,
  surface: Caller['surface'],
): RequestContext {
  return new HttpRequestContext(req, reply, surface);
}
