import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson, waitFor } from '../helpers/http.js';

/** The /v1 surface over real HTTP: envelopes, headers, SSE framing, aborts, and the pipeline in the path. */

let s: Stack;
let url: string;
const chat = { model: 'tinyllama', messages: [{ role: 'user', content: 'hello' }] };

/** `data:` payloads of an SSE body, in order ("[DONE]" kept as a string). */
function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((b) => {
      expect(b.startsWith('data: ')).toBe(true);
      const d = b.slice(6);
      return d === '[DONE]' ? d : (JSON.parse(d) as unknown);
    });
}

beforeAll(async () => {
  s = await startStack({
    sim: { parallel: 1, tps: 0 },
    gateway: { cacheMode: 'off', bodyLimit: 2048, llmBodyLimit: 2048 },
  });
  url = `${s.gw.url}/v1`;
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => {
  s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  s.sim.resetStats();
});

describe('OpenAI surface: errors in the OpenAI envelope', () => {
  it.each([
    ['bad JSON', 400, '{"model":', 'application/json', 'SUTAZAI_ERR_INVALID_JSON'],
    ['unsupported content type', 415, '<x/>', 'application/xml', 'SUTAZAI_ERR_UNSUPPORTED_MEDIA_TYPE'],
    [
      'body too large',
      413,
      JSON.stringify({ ...chat, pad: 'x'.repeat(4096) }),
      'application/json',
      'SUTAZAI_ERR_BODY_TOO_LARGE',
    ],
  ])('%s → %i', async (_name, status, body, type, code) => {
    const r = await postJson(`${url}/chat/completions`, body, { 'content-type': type });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', param: null, code });
    expect(typeof r.json.error?.message).toBe('string');
  });

  it('validation error names the param', async () => {
    const r = await postJson(`${url}/chat/completions`, { ...chat, messages: 'hi' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ param: 'messages', code: 'SUTAZAI_ERR_VALIDATION' });
  });

  it('unknown /v1 route → 404 envelope', async () => {
    const r = await postJson(`${url}/nope`, {});
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ type: 'not_found_error' });
  });

  it('upstream busy → 503 with Retry-After', async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const r = await postJson(`${url}/chat/completions`, chat);
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.json.error).toMatchObject({ type: 'api_error', code: 'SUTAZAI_ERR_UPSTREAM_BUSY' });
  });

  it('an error before the first chunk of a stream gets its real status', async () => {
    const r = await postJson(`${url}/chat/completions`, { ...chat, model: 'missing', stream: true });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('x-request-id is echoed when sane', async () => {
    const r = await postJson(`${url}/chat/completions`, chat, { 'x-request-id': 'abc-123' });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
  });
});

describe('OpenAI surface: SSE stream', () => {
  it('headers, framing, no compression, [DONE] last, no usage keys without include_usage', async () => {
    const r = await postJson(
      `${url}/chat/completions`,
      { ...chat, stream: true },
      { 'accept-encoding': 'gzip, br' },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(r.headers.get('x-accel-buffering')).toBe('no');
    expect(r.headers.get('content-encoding')).toBeNull();
    expect(r.headers.get('x-sutazai-cache')).toBe('bypass');
    expect(r.headers.get('x-request-id')).toBeTruthy();
    const events = sseData(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as Array<Record<string, unknown>>;
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks.every((c) => Array.isArray(c.choices) && (c.choices as unknown[]).length === 1)).toBe(true);
  });

  it('a mid-stream upstream error ends with an error event and no [DONE]', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const r = await postJson(`${url}/chat/completions`, { ...chat, stream: true });
    expect(r.status).toBe(200);
    const events = sseData(r.text);
    expect(events).not.toContain('[DONE]');
    expect(events.at(-1)).toMatchObject({ error: { type: 'api_error', code: 'SUTAZAI_ERR_UPSTREAM_ERROR' } });
    expect(events.length).toBeGreaterThan(2);
  });

  it('completions stream ends with a finish chunk and [DONE]', async () => {
    const r = await postJson(`${url}/completions`, {
      model: 'tinyllama',
      prompt: 'x',
      max_tokens: 3,
      stream: true,
    });
    const events = sseData(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.at(-2)).toMatchObject({
      object: 'text_completion',
      choices: [{ text: '', finish_reason: 'length' }],
    });
  });

  it('client disconnect mid-stream frees the upstream slot', async () => {
    s.sim.setFaults({ stallRate: 1 });
    const ac = new AbortController();
    const res = await request(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat, stream: true }),
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    ac.abort();
    await res.body.text().catch(() => undefined);
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
    expect(s.sim.stats().aborted).toBeGreaterThanOrEqual(1);
  });

  it('client disconnect on a non-streaming call frees the slot too', async () => {
    s.sim.setFaults({ stallRate: 1 });
    const ac = new AbortController();
    const p = fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    ac.abort();
    await p;
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
  });
});

describe('OpenAI surface goes through the shared pipeline (cache)', () => {
  let cached: Stack;
  beforeAll(async () => {
    cached = await startStack({ sim: { tps: 0 }, gateway: { cacheMode: 'all' } });
  });
  afterAll(async () => {
    await cached.close();
  });

  it('an identical request is answered from the cache, streamed or not', async () => {
    const body = { ...chat, messages: [{ role: 'user', content: 'cache me' }], temperature: 0 };
    const a = await postJson(`${cached.gw.url}/v1/chat/completions`, body);
    const b = await postJson(`${cached.gw.url}/v1/chat/completions`, body);
    expect(a.headers.get('x-sutazai-cache')).toBe('miss');
    expect(b.headers.get('x-sutazai-cache')).toMatch(/^hit/);
    const content = (r: typeof a) =>
      (r.json.choices as Array<{ message: { content: string } }>)[0]?.message.content;
    expect(content(b)).toBe(content(a));
    const st = await postJson(`${cached.gw.url}/v1/chat/completions`, { ...body, stream: true });
    expect(st.headers.get('x-sutazai-cache')).toMatch(/^hit/);
    expect(cached.sim.stats().generations).toBe(1);
  });
});
