import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { eventually, metricsView, scrape, startMetricsStack } from './helpers.js';
import { sum } from './prom-text.js';

describe('metrics follow known traffic (real gateway over the simulator)', () => {
  let stack: Stack;
  let url: string;
  let upstream: string;
  const statuses: number[] = [];
  const errorCodes: string[] = [];
  let completionTokens = 0;

  beforeAll(async () => {
    stack = await startMetricsStack();
    url = stack.gw.url;
    upstream = stack.gw.services.adapters[0]?.id ?? '';

    const chat = async (body: Record<string, unknown>) => {
      const r = await postJson(`${url}/api/v1/chat`, { model: 'tinyllama', ...body });
      statuses.push(r.status);
      if (r.status === 200)
        completionTokens += (r.json.usage as { completion_tokens: number }).completion_tokens;
      else errorCodes.push(String(r.json.error?.code));
      return r;
    };
    // 1 miss, then 2 L1 hits of the same prompt.
    for (let i = 0; i < 3; i++) await chat({ message: 'count me' });
    // Not cacheable: bypass.
    await chat({ message: 'count me', use_cache: false });
    // Unknown model: 404 before any upstream call.
    await chat({ message: 'x', model: 'no-such-model' });
    // The upstream fails this one.
    stack.sim.setFaults({ failNext: 1, failNextStatus: 500 });
    await chat({ message: 'this one fails' });
    // A fresh probe, so the health figures below do not depend on the periodic one's timing.
    await stack.gw.services.health.refresh();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('sent what the assertions below expect', () => {
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses).toContain(404);
    expect(errorCodes).toContain('SUTAZAI_ERR_MODEL_NOT_FOUND');
    expect(statuses.filter((s) => s >= 500)).toHaveLength(1);
  });

  it('counts requests, cache outcomes, tokens and error codes in Prometheus', async () => {
    // A response is counted when it closes on the server; the scrape is cached for a second.
    const m = await eventually(async () => {
      const f = await scrape(url);
      return sum(f, 'sutazai_http_requests_total', { route: '/api/v1/chat' }) === 6 ? f : undefined;
    });
    const chat = { surface: 'v1', route: '/api/v1/chat', method: 'POST' };
    expect(sum(m, 'sutazai_http_requests_total', { ...chat, status: '200' })).toBe(4);
    expect(sum(m, 'sutazai_http_requests_total', { ...chat, status: '404' })).toBe(1);
    const upstreamStatus = String(statuses.find((s) => s >= 500));
    expect(sum(m, 'sutazai_http_requests_total', { ...chat, status: upstreamStatus })).toBe(1);
    expect(sum(m, 'sutazai_http_request_duration_seconds_count', { route: '/api/v1/chat' })).toBe(6);

    const upstreamCode = errorCodes.find((c) => c !== 'SUTAZAI_ERR_MODEL_NOT_FOUND') ?? '';
    expect(upstreamCode).toMatch(/^SUTAZAI_ERR_UPSTREAM_/);
    expect(sum(m, 'sutazai_http_errors_total', { surface: 'v1', code: 'SUTAZAI_ERR_MODEL_NOT_FOUND' })).toBe(
      1,
    );
    expect(sum(m, 'sutazai_http_errors_total', { surface: 'v1', code: upstreamCode })).toBe(1);
    expect(sum(m, 'sutazai_llm_errors_total', { code: upstreamCode, phase: 'before_output' })).toBe(1);
    expect(sum(m, 'sutazai_llm_errors_total', { code: 'SUTAZAI_ERR_MODEL_NOT_FOUND' })).toBe(1);

    expect(sum(m, 'sutazai_cache_requests_total', { outcome: 'miss' })).toBe(1);
    expect(sum(m, 'sutazai_cache_requests_total', { outcome: 'hit', tier: 'l1' })).toBe(2);
    expect(sum(m, 'sutazai_cache_requests_total', { outcome: 'bypass' })).toBe(1);
    expect(sum(m, 'sutazai_merged_requests_total')).toBe(0);

    // Two real upstream calls succeeded (miss + bypass) and one failed.
    expect(sum(m, 'sutazai_upstream_requests_total', { upstream, result: 'ok' })).toBe(2);
    expect(sum(m, 'sutazai_upstream_requests_total', { upstream, result: 'error' })).toBe(1);
    expect(sum(m, 'sutazai_upstream_errors_total', { upstream, code: upstreamCode })).toBe(1);

    expect(sum(m, 'sutazai_llm_requests_total', { result: 'ok', model: 'tinyllama:latest' })).toBe(4);
    expect(sum(m, 'sutazai_llm_tokens_total', { type: 'completion' })).toBe(completionTokens);
    // Unknown model names never become label values.
    expect([...m.values()].flatMap((f) => f.samples).some((s) => s.labels.model === 'no-such-model')).toBe(
      false,
    );
    expect(sum(m, 'sutazai_llm_requests_total', { model: 'other', result: 'error' })).toBe(1);
    expect(sum(m, 'sutazai_gateway_overhead_seconds_count', { surface: 'v1' })).toBe(4);
    expect(sum(m, 'sutazai_upstream_up', { upstream })).toBe(1);
  });

  it('shows the same traffic in the JSON windows, without its own polls', async () => {
    const v = await eventually(async () => {
      const x = await metricsView(url);
      return x.traffic.windows['1m'].requests === 6 ? x : undefined;
    });
    // Poll again: the metrics/health routes polled above must not have become traffic.
    await fetch(`${url}/health`).then((r) => r.text());
    const again = await eventually(async () => {
      const x = await metricsView(url);
      return x.timestamp !== v.timestamp ? x : undefined;
    });
    for (const x of [v, again]) {
      const w = x.traffic.windows['1m'];
      expect(w.requests).toBe(6);
      expect(w.errors).toBe(1);
      expect(w.client_errors).toBe(1);
      expect(w.error_rate).toBeCloseTo(1 / 6, 3);
      expect(w.cache).toMatchObject({ hit_l1: 2, hit_l2: 0, miss: 1, merged: 0, bypass: 1 });
      expect(w.cache.hit_rate).toBeCloseTo(2 / 3, 3);
      expect(w.llm_requests).toBe(4);
      expect(w.p50_ms).not.toBeNull();
      expect(w.p99_ms ?? 0).toBeGreaterThanOrEqual(w.p50_ms ?? 0);
      expect(x.traffic.last_100.requests).toBe(6);
      expect(x.traffic.windows['15m'].requests).toBe(6);
    }
    expect(again.traffic.excluded_routes).toContain('/api/v1/metrics');
    expect(again.upstreams[0]).toMatchObject({ id: upstream, status: 'healthy' });
    expect(again.upstreams[0]?.last_1m).toMatchObject({ requests: 3, errors: 1 });
    expect(again.cache).not.toBeNull();
    expect(again.queue).not.toBeNull();
  });
});

describe('merged requests', () => {
  it('counts identical concurrent requests that joined one upstream call', async () => {
    const stack = await startMetricsStack({ sim: { ttftMs: 400 } });
    try {
      const url = stack.gw.url;
      const rs = await Promise.all(
        [0, 1, 2].map(() => postJson(`${url}/api/v1/chat`, { model: 'tinyllama', message: 'together' })),
      );
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
      const m = await eventually(async () => {
        const f = await scrape(url);
        return sum(f, 'sutazai_http_requests_total', { route: '/api/v1/chat' }) === 3 ? f : undefined;
      });
      expect(sum(m, 'sutazai_cache_requests_total', { outcome: 'miss' })).toBe(1);
      expect(sum(m, 'sutazai_cache_requests_total', { outcome: 'merged' })).toBe(2);
      expect(sum(m, 'sutazai_merged_requests_total')).toBe(2);
      expect(sum(m, 'sutazai_upstream_requests_total', { result: 'ok' })).toBe(1);
      expect(stack.sim.stats().generations).toBe(1);
    } finally {
      await stack.close();
    }
  });
});
