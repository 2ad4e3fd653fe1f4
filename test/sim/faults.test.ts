import { errors, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { call, json, ndjson, post, sseData, waitFor } from './helpers.js';

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const msgs = [{ role: 'user', content: 'hello' }];

describe('fault injection', () => {
  it('errorRate 1: HTTP 500 before any byte, in each surface envelope; no slot used', async () => {
    const h = await startSimulator({ faults: { errorRate: 1 } });
    sim = h;
    const o = await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs });
    expect(o.status).toBe(500);
    expect(typeof json(o).error).toBe('string');
    const v = await post(`${h.url}/v1/chat/completions`, { model: 'llama3.2', messages: msgs, stream: true });
    expect(v.status).toBe(500);
    expect(json<{ error: { type: string } }>(v).error.type).toBe('server_error');
    expect((await post(`${h.url}/v1/embeddings`, { model: 'nomic-embed-text', input: 'x' })).status).toBe(
      500,
    );
    // Non-generation routes are not affected.
    expect((await call(`${h.url}/api/tags`, 'GET')).status).toBe(200);
    expect(h.stats().generations).toBe(0);
  });

  it('midStreamErrorRate 1: Ollama stream ends with an error line after about half the tokens', async () => {
    const h = await startSimulator({ defaultTokens: 10, faults: { midStreamErrorRate: 1 } });
    sim = h;
    const r = await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs });
    expect(r.status).toBe(200);
    const lines = ndjson(r.text);
    expect(lines).toHaveLength(6);
    expect(lines.slice(0, 5).every((l) => l.done === false)).toBe(true);
    expect(typeof lines[5]?.error).toBe('string');
    expect(lines.some((l) => l.done === true)).toBe(false);
    // Non-stream: a 500.
    const full = await post(`${h.url}/api/generate`, { model: 'llama3.2', prompt: 'x', stream: false });
    expect(full.status).toBe(500);
    expect(h.stats().active).toBe(0);
  });

  it('midStreamErrorRate 1: OpenAI stream ends with an error event and no [DONE]', async () => {
    const h = await startSimulator({ defaultTokens: 10, faults: { midStreamErrorRate: 1 } });
    sim = h;
    const r = await post(`${h.url}/v1/chat/completions`, { model: 'llama3.2', messages: msgs, stream: true });
    expect(r.status).toBe(200);
    const data = sseData(r.text);
    expect(data).not.toContain('[DONE]');
    const last = JSON.parse(data.at(-1) ?? '') as { error: { message: string; type: string } };
    expect(last.error.message).toMatch(/simulated/);
    expect(data).toHaveLength(1 + 5 + 1); // role chunk, 5 tokens, error
    const full = await post(`${h.url}/v1/chat/completions`, { model: 'llama3.2', messages: msgs });
    expect(full.status).toBe(500);
    expect(json<{ error: { type: string } }>(full).error.type).toBe('server_error');
  });

  it('stallRate 1: the stream stops part-way, holds the slot until the client leaves', async () => {
    const h = await startSimulator({ defaultTokens: 10, faults: { stallRate: 1 } });
    sim = h;
    const ac = new AbortController();
    const res = await request(`${h.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', messages: msgs }),
      signal: ac.signal,
    });
    let text = '';
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString();
      if (text.split('\n').length - 1 >= 5) break;
    }
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(5);
    expect(h.stats()).toMatchObject({ active: 1, aborted: 0 });
    ac.abort();
    await waitFor(() => h.stats().active === 0, 'slot freed after the client left');
    expect(h.stats().aborted).toBe(1);
  });

  it('stallRate 1 on a non-streaming request: no answer at all until the client leaves', async () => {
    const h = await startSimulator({ faults: { stallRate: 1 } });
    sim = h;
    await expect(
      request(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'llama3.2', messages: msgs }),
        headersTimeout: 200,
      }).then((r) => r.body.text()),
    ).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
    await waitFor(() => h.stats().active === 0, 'slot freed after the client gave up');
    expect(h.stats()).toMatchObject({ aborted: 1, generations: 1 });
  });

  it('slowHeadersMs: headers do not arrive before the delay (client headers timeout fires)', async () => {
    const h = await startSimulator({ faults: { slowHeadersMs: 60_000 } });
    sim = h;
    await expect(
      request(`${h.url}/api/version`, { method: 'GET', headersTimeout: 200 }).then((r) => r.body.text()),
    ).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
    h.setFaults({ slowHeadersMs: 0 });
    expect((await call(`${h.url}/api/version`, 'GET')).status).toBe(200);
  });

  it('failNext: the next N generation requests fail with the given status, then recover', async () => {
    const h = await startSimulator();
    sim = h;
    h.setFaults({ failNext: 2, failNextStatus: 503 });
    const a = await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs, stream: false });
    expect(a.status).toBe(503);
    expect(json(a).error).toBe('server busy, please try again.  maximum pending requests exceeded');
    expect(a.headers['retry-after']).toBe('1');
    const b = await post(`${h.url}/v1/chat/completions`, { model: 'llama3.2', messages: msgs });
    expect(b.status).toBe(503);
    expect(b.headers['retry-after']).toBe('1');
    expect(json<{ error: { message: string } }>(b).error.message).toMatch(/server busy/);
    expect(
      (await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs, stream: false })).status,
    ).toBe(200);
    h.setFaults({ failNext: 1, failNextStatus: 502 });
    expect((await post(`${h.url}/api/embed`, { model: 'nomic-embed-text', input: 'x' })).status).toBe(502);
    expect(h.stats()).toMatchObject({ rejected503: 2, generations: 1 });
  });

  it('setFaults rejects invalid values', async () => {
    const h = await startSimulator();
    sim = h;
    expect(() => h.setFaults({ errorRate: 2 })).toThrow(/errorRate/);
    expect(() => h.setFaults({ failNextStatus: 200 })).toThrow(/failNextStatus/);
    await expect(startSimulator({ parallel: 0 })).rejects.toThrow(/parallel/);
  });
});

describe('control endpoints', () => {
  it('GET /sim/stats, POST /sim/faults, POST /sim/reset', async () => {
    const h = await startSimulator({ faults: { slowHeadersMs: 0 } });
    sim = h;
    await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs, stream: false });
    const stats = json<{ requests: Record<string, number>; generations: number }>(
      await call(`${h.url}/sim/stats`, 'GET'),
    );
    expect(stats.requests['/api/chat']).toBe(1);
    expect(stats.generations).toBe(1);
    const set = await post(`${h.url}/sim/faults`, { failNext: 1, failNextStatus: 500 });
    expect(json(set)).toMatchObject({ failNext: 1, failNextStatus: 500, errorRate: 0 });
    expect((await post(`${h.url}/sim/faults`, { errorRate: -1 })).status).toBe(400);
    expect((await post(`${h.url}/sim/faults`, { bogus: 1 })).status).toBe(400);
    expect(
      (await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs, stream: false })).status,
    ).toBe(500);
    await post(`${h.url}/sim/faults`, { failNext: 3 });
    expect((await post(`${h.url}/sim/reset`, {})).status).toBe(200);
    expect(h.stats()).toMatchObject({ generations: 0, aborted: 0, rejected503: 0, requests: {} });
    expect(json(await call(`${h.url}/sim/faults`, 'GET'))).toMatchObject({ failNext: 0 });
    expect(
      (await post(`${h.url}/api/chat`, { model: 'llama3.2', messages: msgs, stream: false })).status,
    ).toBe(200);
  });
});
