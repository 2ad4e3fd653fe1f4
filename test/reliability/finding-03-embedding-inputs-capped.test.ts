import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

// Issue 23, finding 3: an embeddings request with 50,000 inputs took the RSS to 3.3 GB and blocked
// the event loop for 11 s. Inputs are capped per request (count and bytes), in every surface's
// envelope, before any upstream work.

let s: Stack;
beforeAll(async () => {
  s = await startStack({ gateway: { embedMaxBytes: 1000 } });
});
afterAll(async () => {
  await s.close();
});

const many = Array.from({ length: 50_000 }, (_, i) => `w${i}`);

async function post(path: string, body: unknown) {
  const r = await fetch(`${s.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('finding 3: embedding inputs are capped', () => {
  it('50,000 inputs: 400 naming the cap on the OpenAI and Ollama surfaces, no upstream call', async () => {
    const before = (await (await fetch(`${s.sim.url}/sim/stats`)).json()) as { generations: number };
    const openai = await post('/v1/embeddings', { model: 'nomic-embed-text', input: many });
    expect(openai.status).toBe(400);
    expect((openai.body.error as { message: string; param: string }).message).toMatch(/at most 256/);
    expect((openai.body.error as { param: string }).param).toBe('input');
    const ollama = await post('/api/embed', { model: 'nomic-embed-text', input: many });
    expect(ollama.status).toBe(400);
    expect(ollama.body.error).toMatch(/SUTAZAI_EMBED_MAX_INPUTS/);
    const after = (await (await fetch(`${s.sim.url}/sim/stats`)).json()) as { generations: number };
    expect(after.generations).toBe(before.generations);
  });
  it('inputs over the byte bound: 413 in the surface envelope', async () => {
    const big = ['x'.repeat(600), 'y'.repeat(600)];
    const r = await post('/api/embed', { model: 'nomic-embed-text', input: big });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/1200 bytes, at most 1000 .*SUTAZAI_EMBED_MAX_BYTES/);
    const o = await post('/v1/embeddings', { model: 'nomic-embed-text', input: big });
    expect(o.status).toBe(413);
    expect((o.body.error as { param: string }).param).toBe('input');
  });
  it('the largest allowed number of inputs is answered', async () => {
    const r = await post('/v1/embeddings', { model: 'nomic-embed-text', input: many.slice(0, 256) });
    expect(r.status).toBe(200);
    expect((r.body.data as unknown[]).length).toBe(256);
  });
});
