import type { FastifyBaseLogger } from 'fastify';
import type { AlertEvent } from './alerts.js';

const TIMEOUT_MS = 5000;

/**
 * Delivers each alert event as a JSON POST, one attempt, never blocking evaluation. A failed
 * delivery is logged (the event is also in the log and in GET /api/v1/alerts).
 */
export function createWebhook(url: string, processId: string, logger: FastifyBaseLogger) {
  const pending = new Set<Promise<void>>();
  return {
    send(event: AlertEvent) {
      const p = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'sutazai-alerts' },
        body: JSON.stringify({ source: 'sutazai', process: processId, event }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
        .then(async (res) => {
          await res.body?.cancel();
          if (!res.ok)
            logger.warn({ status: res.status, alert: event.key }, 'alert webhook answered an error');
        })
        .catch((err: unknown) => {
          logger.warn({ err: (err as Error).message, alert: event.key }, 'alert webhook delivery failed');
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    /** Wait for deliveries in progress (shutdown). */
    async idle() {
      await Promise.all([...pending]);
    },
  };
}
