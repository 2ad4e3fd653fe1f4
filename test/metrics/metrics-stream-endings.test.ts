import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { eventually, scrape, startMetricsStack } from './helpers.js';
import { sum } from './prom-text.js';

/**
 * How a stream ended is counted once, where it ended: a mid-stream upstream error and a client
 * that hangs up part-way (HTTP status 499 in the request counts).
 */
describe('metrics count how streams end', () => {
  let stack: Stack;
  let url: string;
  let upstream: string;

  const stream = (message: string, signal?: AbortSignal) =>
    request(`${url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', message, use_cache: false }),
      ...(signal ? { signal } : {}),
    });

  beforeAll(async () => {
    stack = await startMetricsStack({ sim: { tps: 50 } });
    url = stack.gw.url;
    upstream = stack.gw.services.adapters[0]?.id ?? '';

    // 1. The upstream fails part-way: the client gets an SSE error event after 200 + tokens.
    stack.sim.setFaults({ midStreamErrorRate: 1 });
    const failed = await stream('fail part-way');
    expect(failed.statusCode).toBe(200);
    expect(await failed.body.text()).toContain('event: error');
    stack.sim.setFaults({ midStreamErrorRate: 0 });

    // 2. The client hangs up after the first token.
    const ac = new AbortController();
    const cut = await stream('hang up', ac.signal);
    expect(cut.statusCode).toBe(200);
    for await (const piece of cut.body) {
      if (String(piece).includes('event: token')) break;
    }
    ac.abort();
    await cut.body.text().catch(() => undefined);

    // 3. One stream that finishes.
    const ok = await stream('finish');
    expect(await ok.body.text()).toContain('event: done');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts the error, the hang-up (499) and the finished stream once each', async () => {
    const m = await eventually(async () => {
      const f = await scrape(url);
      return sum(f, 'sutazai_http_requests_total', { route: '/api/v1/chat/stream' }) === 3 ? f : undefined;
    });
    const route = { surface: 'v1', route: '/api/v1/chat/stream' };
    expect(sum(m, 'sutazai_http_requests_total', { ...route, status: '200' })).toBe(2);
    expect(sum(m, 'sutazai_http_requests_total', { ...route, status: '499' })).toBe(1);

    expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'ok' })).toBe(1);
    expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'error' })).toBe(1);
    expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'aborted' })).toBe(1);
    expect(sum(m, 'sutazai_llm_errors_total', { surface: 'v1', phase: 'mid_stream' })).toBe(1);

    expect(sum(m, 'sutazai_upstream_requests_total', { upstream, result: 'ok' })).toBe(1);
    expect(sum(m, 'sutazai_upstream_requests_total', { upstream, result: 'error' })).toBe(1);
    expect(sum(m, 'sutazai_upstream_requests_total', { upstream, result: 'aborted' })).toBe(1);
    // Gateway overhead is recorded for the finished and the failed stream (status 200), not the 499.
    expect(sum(m, 'sutazai_gateway_overhead_seconds_count', { surface: 'v1' })).toBe(2);
  });
});

describe('a merged joiner that hangs up', () => {
  it('is counted as aborted, not as an error, and the other caller still finishes', async () => {
    const stack = await startMetricsStack({ sim: { tps: 50 } });
    try {
      const url = stack.gw.url;
      const body = JSON.stringify({ model: 'tinyllama', message: 'shared answer' });
      const open = (signal?: AbortSignal) =>
        request(`${url}/api/v1/chat/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          ...(signal ? { signal } : {}),
        });
      const ac = new AbortController();
      const [stays, leaves] = await Promise.all([open(), open(ac.signal)]);
      expect([stays.headers['x-sutazai-cache'], leaves.headers['x-sutazai-cache']].sort()).toEqual([
        'merged',
        'miss',
      ]);
      for await (const piece of leaves.body) {
        if (String(piece).includes('event: token')) break;
      }
      ac.abort();
      await leaves.body.text().catch(() => undefined);
      expect(await stays.body.text()).toContain('event: done');

      const m = await eventually(async () => {
        const f = await scrape(url);
        return sum(f, 'sutazai_http_requests_total', { route: '/api/v1/chat/stream' }) === 2 ? f : undefined;
      });
      expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'ok' })).toBe(1);
      expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'aborted' })).toBe(1);
      expect(sum(m, 'sutazai_llm_requests_total', { surface: 'v1', result: 'error' })).toBe(0);
      expect(sum(m, 'sutazai_llm_errors_total', { surface: 'v1' })).toBe(0);
      expect(sum(m, 'sutazai_http_requests_total', { route: '/api/v1/chat/stream', status: '499' })).toBe(1);
    } finally {
      await stack.close();
    }
  });
});
