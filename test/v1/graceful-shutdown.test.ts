import { describe, expect, it } from 'vitest';
import { startStack } from '../helpers/gateway.js';
import { postJson, waitFor } from '../helpers/http.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new ones', async () => {
    // 20 tokens at 40 tokens/s: about half a second of generation.
    const s = await startStack({
      sim: { tps: 40, ttftMs: 50 },
      gateway: { cacheMode: 'off', shutdownGraceMs: 5000 },
    });
    try {
      const inflight = postJson(`${s.gw.url}/api/v1/chat`, {
        message: 'long one',
        options: { num_predict: 20 },
      });
      // Close only once the request is really in flight at the upstream.
      await waitFor(() => s.sim.stats().active === 1, 10_000, 'request in flight');
      const closing = s.gw.close();
      const r = await inflight;
      expect(r.status).toBe(200);
      expect((r.json.usage as Record<string, number>).completion_tokens).toBe(20);
      await closing;
      await expect(fetch(`${s.gw.url}/health`)).rejects.toThrow();
    } finally {
      await s.sim.close();
    }
  });
});
