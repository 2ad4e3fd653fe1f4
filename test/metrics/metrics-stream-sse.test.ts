import { get, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { MetricsView } from '../../src/metrics/view.js';
import { startMetricsStack } from './helpers.js';

/** An SSE client over node:http: parsed `metrics` events, and a promise of a clean end. */
function openStream(url: string) {
  const events: MetricsView[] = [];
  let buf = '';
  let notify = () => {};
  let resolveRes: (r: IncomingMessage) => void = () => {};
  const response = new Promise<IncomingMessage>((r) => (resolveRes = r));
  const ended = new Promise<void>((resolve, reject) => {
    const req = get(url, (res) => {
      resolveRes(res);
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        buf += s;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: metrics') && data) events.push(JSON.parse(data.slice(6)) as MetricsView);
        }
        notify();
      });
      res.on('end', resolve);
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('stream aborted')));
    });
    req.on('error', reject);
  });
  ended.catch(() => undefined);
  return {
    response,
    ended,
    events: () => events,
    waitForEvents: (n: number) =>
      new Promise<void>((resolve) => {
        notify = () => {
          if (events.length >= n) resolve();
        };
        notify();
      }),
  };
}

describe('GET /api/v1/metrics/stream', () => {
  it('sends the metrics view as SSE events and ends the stream cleanly on shutdown', async () => {
    const stack = await startMetricsStack();
    let closed = false;
    try {
      const stream = openStream(`${stack.gw.url}/api/v1/metrics/stream`);
      const head = await stream.response;
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(head.headers['content-encoding']).toBeUndefined();
      await stream.waitForEvents(2);
      const events = stream.events();
      expect(events[0]?.traffic.windows['10s']).toBeDefined();
      expect(events[1]?.system.memory.rss_bytes).toBeGreaterThan(0);

      // Shutdown ends open streams itself (preClose), so the client sees a normal end, not a reset.
      await Promise.all([stack.close().then(() => (closed = true)), stream.ended]);
    } finally {
      if (!closed) await stack.close();
    }
  });
});
