import type { Socket } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { eventually, scrape, startMetricsStack } from './helpers.js';
import { sum } from './prom-text.js';

/**
 * Requests on one keep-alive connection: each is counted once when it finishes, a later one cut
 * off on the same connection is counted once as 499 (and its upstream call aborted), and the
 * gateway keeps one 'close' listener per connection, not one per request (src/http/inflight.ts).
 */
describe('metrics on a keep-alive connection', () => {
  let stack: Stack;
  const sockets: Socket[] = [];
  const closeListeners: number[] = [];
  let socketsUsed = 0;

  beforeAll(async () => {
    stack = await startMetricsStack({ sim: { tps: 50 } });
    stack.gw.app.server.on('connection', (s: Socket) => sockets.push(s));
    const pool = new Pool(stack.gw.url, { connections: 1, pipelining: 1 });
    const chat = (message: string, path = '/api/v1/chat', signal?: AbortSignal, numPredict = 3) =>
      pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tinyllama', message, options: { num_predict: numPredict } }),
        ...(signal ? { signal } : {}),
      });
    for (let i = 0; i < 5; i++) {
      const r = await chat('the same question'); // 1 miss, then 4 cache hits
      expect(r.statusCode).toBe(200);
      await r.body.text();
      closeListeners.push(sockets[0]?.listenerCount('close') ?? -1);
    }
    socketsUsed = sockets.length;
    // Now a stream on the same connection, cut off after its first token. It must not be able to
    // finish before the cut: 3 tokens at 50 tokens/s were done 40 ms after the first one, and a
    // loaded machine often took longer than that to read the first token and abort, so the stream
    // ended normally (200, not 499). 2000 tokens take 40 s: the cut always comes first.
    const ac = new AbortController();
    const cut = await chat('cut me off', '/api/v1/chat/stream', ac.signal, 2000);
    for await (const piece of cut.body) if (String(piece).includes('event: token')) break;
    ac.abort();
    await cut.body.text().catch(() => undefined);
    await pool.close();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts each request once and keeps one close listener per connection', async () => {
    const m = await eventually(async () => {
      const f = await scrape(stack.gw.url);
      return sum(f, 'sutazai_http_requests_total', { route: '/api/v1/chat/stream' }) === 1 ? f : undefined;
    });
    expect(socketsUsed).toBe(1);
    // After five requests the connection carries the same listeners as after one.
    expect(closeListeners[0]).toBeGreaterThan(0);
    expect(new Set(closeListeners).size).toBe(1);
    expect(sum(m, 'sutazai_http_requests_total', { route: '/api/v1/chat', status: '200' })).toBe(5);
    expect(sum(m, 'sutazai_http_requests_total', { route: '/api/v1/chat/stream', status: '499' })).toBe(1);
    expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', cache: 'hit-l1', result: 'ok' })).toBe(4);
    expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'aborted' })).toBe(1);
    expect(sum(m, 'sutazai_upstream_requests_total', { result: 'aborted' })).toBe(1);
  });
});
