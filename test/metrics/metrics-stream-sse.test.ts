import { describe, expect, it } from 'vitest';
import type { MetricsView } from '../../src/metrics/view.js';
import { startMetricsStack } from './helpers.js';

describe('GET /api/v1/metrics/stream', () => {
  it('sends the metrics view as SSE events and ends the stream cleanly on shutdown', async () => {
    const stack = await startMetricsStack();
    let closed = false;
    try {
      const res = await fetch(`${stack.gw.url}/api/v1/metrics/stream`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('content-encoding')).toBeNull();
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');
      const decoder = new TextDecoder();
      let buf = '';
      const events: MetricsView[] = [];
      while (events.length < 2) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended early');
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: metrics') && data) events.push(JSON.parse(data.slice(6)) as MetricsView);
        }
      }
      expect(events[0]?.traffic.windows['10s']).toBeDefined();
      expect(events[1]?.system.memory.rss_bytes).toBeGreaterThan(0);

      // Shutdown ends open streams itself (preClose), so the reader sees a normal end, not a reset.
      const closing = stack.close().then(() => (closed = true));
      let end: ReadableStreamReadResult<Uint8Array>;
      do end = await reader.read();
      while (!end.done);
      expect(end.done).toBe(true);
      await closing;
    } finally {
      if (!closed) await stack.close();
    }
  });
});
