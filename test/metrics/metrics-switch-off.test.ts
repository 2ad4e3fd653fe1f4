import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { startMetricsStack } from './helpers.js';

describe('SUTAZAI_METRICS=false', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startMetricsStack({ gateway: { metricsEnabled: false } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves LLM requests with no metrics stages, hooks or routes', async () => {
    const r = await postJson(`${stack.gw.url}/api/v1/chat`, { model: 'tinyllama', message: 'hi' });
    expect(r.status).toBe(200);
    expect(stack.gw.services.metrics).toBeUndefined();
    for (const p of ['/metrics', '/api/v1/metrics', '/api/v1/alerts', '/dashboard']) {
      const res = await fetch(`${stack.gw.url}${p}`);
      await res.text();
      expect(res.status, p).toBe(404);
    }
    const root = (await (await fetch(`${stack.gw.url}/`)).json()) as { features: Record<string, boolean> };
    expect(root.features.metrics).toBeUndefined();
  });
});
