import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { eventually, scrape, startMetricsStack } from './helpers.js';
import { sum } from './prom-text.js';

/** /v1/messages and /v1/responses are counted under their own surfaces, HTTP and LLM series alike. */

let stack: Stack;
beforeAll(async () => {
  stack = await startMetricsStack();
});
afterAll(async () => {
  await stack?.close();
});

it('anthropic and responses surfaces in the HTTP and LLM metrics', async () => {
  const url = stack.gw.url;
  const a = await postJson(`${url}/v1/messages`, {
    model: 'tinyllama',
    max_tokens: 3,
    messages: [{ role: 'user', content: 'count me' }],
  });
  const r = await postJson(`${url}/v1/responses`, {
    model: 'tinyllama',
    input: 'count me too',
    max_output_tokens: 3,
  });
  expect([a.status, r.status]).toEqual([200, 200]);
  const m = await eventually(async () => {
    const f = await scrape(url);
    return sum(f, 'sutazai_http_requests_total', { surface: 'responses' }) === 1 ? f : undefined;
  });
  expect(
    sum(m, 'sutazai_http_requests_total', { surface: 'anthropic', route: '/v1/messages', status: '200' }),
  ).toBe(1);
  expect(
    sum(m, 'sutazai_http_requests_total', { surface: 'responses', route: '/v1/responses', status: '200' }),
  ).toBe(1);
  expect(sum(m, 'sutazai_llm_requests_total', { surface: 'anthropic' })).toBe(1);
  expect(sum(m, 'sutazai_llm_requests_total', { surface: 'responses' })).toBe(1);
  expect(sum(m, 'sutazai_http_requests_total', { surface: 'openai' })).toBe(0);
});
