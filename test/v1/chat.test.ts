import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ gateway: { cacheMode: 'off' } });
});
afterAll(async () => {
  await s.close();
});

describe('POST /api/v1/chat', () => {
  it('answers with response, model, cached, usage and latency', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'Hello, how are you?' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const b = r.json as {
      response: string;
      model: string;
      cached: boolean;
      usage: Record<string, number>;
      latency_ms: number;
    };
    expect(b.response.length).toBeGreaterThan(0);
    expect(b.model).toBe('tinyllama');
    expect(b.cached).toBe(false);
    expect(b.usage.prompt_tokens).toBeGreaterThan(0);
    expect(b.usage.completion_tokens).toBe(b.response.trim().split(/\s+/).length);
    expect(b.latency_ms).toBeGreaterThan(0);
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(r.headers.get('x-sutazai-cache')).toBe('bypass');
  });

  it('applies the default num_predict and honours options', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, {
      message: 'hi',
      model: 'llama3.2',
      options: { num_predict: 3, seed: 7 },
    });
    expect(r.status).toBe(200);
    expect(r.json.finish_reason).toBe('length');
    expect((r.json.usage as Record<string, number>).completion_tokens).toBe(3);
    expect(r.json.model).toBe('llama3.2');
  });

  it('echoes a client x-request-id', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'hi' }, { 'x-request-id': 'abc-123' });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
  });

  it('unknown model → 404 naming the model', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'hi', model: 'no-such-model' });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_MODEL_NOT_FOUND', param: 'model' });
    expect(String(r.json.error?.message)).toContain('no-such-model');
  });

  it('bad JSON → 400 in the v1 envelope', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, '{"message": "unterminated');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_INVALID_JSON' });
    expect(r.json.error?.request_id).toBeTruthy();
  });

  it('wrong types → 400 naming the field', async () => {
    const r1 = await postJson(`${s.gw.url}/api/v1/chat`, { message: 42 });
    expect(r1.status).toBe(400);
    expect(r1.json.error).toMatchObject({ code: 'SUTAZAI_ERR_VALIDATION', param: 'message' });
    const r2 = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'x', options: { temperature: 'hot' } });
    expect(r2.status).toBe(400);
    expect(r2.json.error?.param).toBe('options.temperature');
    const r3 = await postJson(`${s.gw.url}/api/v1/chat`, { message: '' });
    expect(r3.status).toBe(400);
    const r4 = await postJson(`${s.gw.url}/api/v1/chat`, { nothing: true });
    expect(r4.status).toBe(400);
    expect(r4.json.error?.param).toBe('message');
  });

  it('oversize body → 413', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'x'.repeat(1_100_000) });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_BODY_TOO_LARGE' });
  });

  it('non-JSON content type → 415', async () => {
    const res = await fetch(`${s.gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'a,b',
    });
    expect(res.status).toBe(415);
  });

  it('unknown route → 404 envelope', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/nope`, {});
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_NOT_FOUND' });
  });

  it('the server keeps serving after all of the above', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'still alive?' });
    expect(r.status).toBe(200);
  });
});
