import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parseSse, postJson, waitFor } from '../helpers/http.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ sim: { parallel: 1, tps: 0 }, gateway: { cacheMode: 'off' } });
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => {
  s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  s.sim.resetStats();
});

describe('POST /api/v1/chat/stream', () => {
  it('streams token events then a done event with usage and finish reason', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat/stream`, {
      message: 'Tell me a story',
      options: { seed: 1 },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(r.headers.get('content-encoding')).toBeNull();
    const events = parseSse(r.text);
    const tokens = events.filter((e) => e.event === 'token');
    const done = events.at(-1);
    expect(tokens.length).toBeGreaterThan(1);
    expect(done?.event).toBe('done');
    const d = done?.data as { usage: Record<string, number>; finish_reason: string; cached: boolean };
    expect(d.usage.completion_tokens).toBe(tokens.length);
    expect(['stop', 'length']).toContain(d.finish_reason);
    expect(d.cached).toBe(false);
    // Same text as the non-streaming route for the same seed.
    const text = tokens.map((t) => (t.data as { text: string }).text).join('');
    const full = await postJson(`${s.gw.url}/api/v1/chat`, {
      message: 'Tell me a story',
      options: { seed: 1 },
    });
    expect(full.json.response).toBe(text);
  });

  it('a mid-stream upstream error ends the stream with an error event', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const r = await postJson(`${s.gw.url}/api/v1/chat/stream`, { message: 'break please' });
    expect(r.status).toBe(200);
    const events = parseSse(r.text);
    expect(events.some((e) => e.event === 'token')).toBe(true);
    const last = events.at(-1);
    expect(last?.event).toBe('error');
    expect((last?.data as { error: { code: string } }).error.code).toBe('SUTAZAI_ERR_UPSTREAM_ERROR');
    expect(events.some((e) => e.event === 'done')).toBe(false);
  });

  it('an error before the first token gets a real status, not a 200 stream', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/chat/stream`, { message: 'hi', model: 'missing-model' });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_MODEL_NOT_FOUND' });
  });

  it('client disconnect frees the upstream slot', async () => {
    s.sim.setFaults({ stallRate: 1 });
    const ac = new AbortController();
    const res = await request(`${s.gw.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'stall forever' }),
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    ac.abort();
    await res.body.text().catch(() => undefined);
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
    expect(s.sim.stats().aborted).toBeGreaterThanOrEqual(1);
    // The single slot is usable again.
    s.sim.setFaults({ stallRate: 0 });
    const ok = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'next' });
    expect(ok.status).toBe(200);
  });

  it('client disconnect on a non-streaming chat frees the slot too', async () => {
    s.sim.setFaults({ stallRate: 1 });
    const ac = new AbortController();
    const p = fetch(`${s.gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'slow' }),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    ac.abort();
    await p;
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
  });
});
