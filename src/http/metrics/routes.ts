import type { FastifyInstance, FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify';
import type { MetricsService } from '../../metrics/service.js';
import { SSE_CONTENT_TYPE } from '../stream/frames.js';
import { openRawStream, type RawStream } from '../stream/raw.js';

export interface MetricsRoutesOptions {
  metrics: MetricsService;
  /** Runs before every route of this plugin (e.g. admin auth once API keys exist). */
  preHandler?: preHandlerAsyncHookHandler;
}

/**
 * GET /metrics (Prometheus), GET /api/v1/metrics (JSON; ?scope=process skips the cluster merge),
 * GET /api/v1/metrics/stream (the same JSON as Server-Sent Events, about once a second),
 * GET /api/v1/alerts (active alerts, recent history, rules).
 */
export function metricsRoutes(opts: MetricsRoutesOptions): FastifyPluginAsync {
  const { metrics } = opts;
  return async (app: FastifyInstance) => {
    if (opts.preHandler) app.addHook('preHandler', opts.preHandler);
    const streams = new Set<RawStream>();
    // Event streams never end by themselves: end them so shutdown does not wait for the grace deadline.
    app.addHook('preClose', async () => {
      for (const s of streams) s.end();
    });

    app.get('/metrics', async (_req, reply) => {
      const text = await metrics.prometheus();
      return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    });

    app.get<{ Querystring: { scope?: string } }>('/api/v1/metrics', async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      return metrics.view(req.query.scope === 'process' ? 'process' : 'auto');
    });

    app.get('/api/v1/alerts', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
      return metrics.alerts();
    });

    app.get('/api/v1/metrics/stream', async (_req, reply) => {
      const first = JSON.stringify(await metrics.view());
      const stream = openRawStream(reply, SSE_CONTENT_TYPE);
      streams.add(stream);
      let writing = false;
      const send = (json: string) => {
        // A slow client skips ticks instead of buffering them.
        if (writing || stream.closed) return;
        writing = true;
        void stream.write(`event: metrics\ndata: ${json}\n\n`).finally(() => {
          writing = false;
        });
      };
      void stream.write('retry: 2000\n\n');
      send(first);
      const unsubscribe = metrics.subscribe(send);
      reply.raw.once('close', () => {
        unsubscribe();
        streams.delete(stream);
      });
    });
  };
}
