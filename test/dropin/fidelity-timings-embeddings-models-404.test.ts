import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { getJson, postJson } from '../helpers/http.js';

/** Issue 22 item 6: honest Ollama timings, token-array embeddings, owned_by, per-prefix 404 envelopes. */

describe.each(['ollama', 'openai'] as const)('over a %s upstream', (kind) => {
  let s: Stack;
  beforeAll(async () => {
    // 60 ms before the first token, then 50 tokens/s: prompt ≈ 60 ms, 8 tokens ≈ 140 ms of generation.
    s = await startStack({
      kind,
      sim: { ttftMs: 60, tps: 50, ownedBy: 'llamacpp' },
      gateway: { cacheMode: 'off' },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('non-streamed Ollama timings split prompt evaluation from generation as the upstream measured them', async () => {
    const r = await postJson(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'count to eight' }],
      stream: false,
      options: { num_predict: 8 },
    });
    expect(r.status, r.text).toBe(200);
    const b = r.json as Record<
      'eval_count' | 'eval_duration' | 'prompt_eval_duration' | 'total_duration',
      number
    >;
    expect(b.eval_count).toBe(8);
    // The bug this pins: eval_duration ~0.4 ms for 30 tokens and prompt_eval_duration the whole call.
    expect(b.eval_duration).toBeGreaterThan(100e6);
    expect(b.prompt_eval_duration).toBeGreaterThan(40e6);
    expect(b.prompt_eval_duration).toBeLessThan(b.eval_duration);
    expect(b.total_duration).toBeGreaterThanOrEqual(b.eval_duration);
  });

  it('token-array embedding input: carried to OpenAI-compatible upstreams, refused by name for Ollama', async () => {
    const r = await postJson(`${s.gw.url}/v1/embeddings`, {
      model: 'nomic-embed-text',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
    });
    if (kind === 'openai') {
      expect(r.status, r.text).toBe(200);
      const data = r.json.data as { index: number; embedding: number[] }[];
      expect(data.map((d) => d.index)).toEqual([0, 1]);
      expect(data[0]?.embedding.length).toBeGreaterThan(0);
      expect(r.json.usage).toMatchObject({ prompt_tokens: 5 });
      const one = await postJson(`${s.gw.url}/v1/embeddings`, { model: 'nomic-embed-text', input: [7, 8] });
      expect(one.status, one.text).toBe(200);
    } else {
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ param: 'input' });
      expect(String(r.json.error?.message)).toMatch(/token arrays/);
    }
  });

  it("/v1/models passes the upstream's owned_by through (Ollama upstreams keep Ollama's convention)", async () => {
    const r = await getJson(`${s.gw.url}/v1/models`);
    const owners = (r.json.data as { owned_by: string }[]).map((m) => m.owned_by);
    expect(new Set(owners)).toEqual(new Set([kind === 'openai' ? 'llamacpp' : 'library']));
  });

  it('unknown paths and methods answer in the envelope of their prefix', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['GET', '/api/chat'],
      ['DELETE', '/api/tags'],
    ] as const) {
      const r = await fetch(`${s.gw.url}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      const body = await r.json();
      expect(body, `${method} ${path}`).toEqual({ error: expect.stringContaining(path) as unknown });
    }
    const openai = await fetch(`${s.gw.url}/v1/nope`);
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({
      error: { type: expect.any(String) as unknown, param: null },
    });
    const v1 = await fetch(`${s.gw.url}/api/v1/nope`);
    expect(v1.status).toBe(404);
    expect(await v1.json()).toMatchObject({ error: { code: 'SUTAZAI_ERR_NOT_FOUND' } });
  });
});
