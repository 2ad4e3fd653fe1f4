import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parseSse, postJson } from '../helpers/http.js';

/** POST /v1/responses over real HTTP: envelope, unknown paths, the event stream, the cache. */

let s: Stack;
let url: string;

beforeAll(async () => {
  s = await startStack({ sim: { tps: 0 }, gateway: { cacheMode: 'all' } });
  url = `${s.gw.url}/v1/responses`;
});
afterAll(async () => {
  await s.close();
});

describe('Responses surface over HTTP', () => {
  it('a repeat is served by the cache, streamed or not, with the same text', async () => {
    // temperature 0: deterministic, so cached under any cache policy.
    const q = { model: 'tinyllama', input: 'cache this one', temperature: 0, max_output_tokens: 8 };
    const a = await postJson(url, q);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-sutazai-cache')).toBe('miss');
    const b = await postJson(url, { ...q, stream: true });
    expect(b.headers.get('x-sutazai-cache')).toMatch(/^hit/);
    const events = parseSse(b.text);
    for (const e of events) expect((e.data as { type: string }).type).toBe(e.event);
    const text = events
      .filter((e) => e.event === 'response.output_text.delta')
      .map((e) => (e.data as { delta: string }).delta)
      .join('');
    const out = (a.json.output as { content: { text: string }[] }[])[0]?.content[0]?.text;
    expect(text).toBe(out);
  });

  it('GET / lists both new surfaces', async () => {
    const r = await fetch(`${s.gw.url}/`, { headers: { accept: 'application/json' } });
    const j = (await r.json()) as { apis: Record<string, string> };
    expect(j.apis).toMatchObject({ openaiResponses: '/v1/responses', anthropic: '/v1/messages' });
  });

  it.each([
    ['invalid JSON', 'POST', '', '{"model":', 400, 'invalid_request_error'],
    ['retrieve by id (not stored)', 'GET', '/resp_123', undefined, 404, 'not_found_error'],
    ['wrong method', 'GET', '', undefined, 404, 'not_found_error'],
    ['missing model', 'POST', '', '{"input":"x"}', 400, 'invalid_request_error'],
  ])('%s → status and type in the OpenAI envelope', async (_n, method, path, payload, status, type) => {
    const res = await fetch(url + path, {
      method,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: payload }),
    });
    expect(res.status).toBe(status);
    const j = (await res.json()) as { error: { type: string; message: string; code: string } };
    expect(j.error.type).toBe(type);
    expect(j.error.message.length).toBeGreaterThan(0);
  });
});
