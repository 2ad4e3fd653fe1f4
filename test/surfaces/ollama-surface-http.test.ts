import http from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson, waitFor } from '../helpers/http.js';

/** The /api surface over real HTTP: NDJSON framing, envelopes, defaults, aborts. */

let s: Stack;
let url: string;
const chat = { model: 'tinyllama', messages: [{ role: 'user', content: 'hello' }] };
const METRICS = [
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
];

function lines(text: string): Array<Record<string, unknown>> {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  s = await startStack({
    sim: { parallel: 1, tps: 0 },
    gateway: { cacheMode: 'off', bodyLimit: 2048, llmBodyLimit: 2048 },
  });
  url = s.gw.url;
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => {
  s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  s.sim.resetStats();
});

describe('Ollama surface: NDJSON streams', () => {
  it.each(['/api/chat', '/api/generate'])(
    '%s streams by default and ends with a done line carrying every metric',
    async (path) => {
      const body = path === '/api/chat' ? chat : { model: 'tinyllama', prompt: 'hello' };
      const r = await postJson(`${url}${path}`, body, { 'accept-encoding': 'gzip, br' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/x-ndjson');
      expect(r.headers.get('content-encoding')).toBeNull();
      expect(r.headers.get('x-accel-buffering')).toBe('no');
      expect(r.headers.get('x-sutazai-cache')).toBe('bypass');
      expect(r.headers.get('x-request-id')).toBeTruthy();
      const ls = lines(r.text);
      expect(ls.length).toBeGreaterThan(2);
      expect(ls.slice(0, -1).every((l) => l.done === false)).toBe(true);
      const last = ls.at(-1)!;
      expect(last.done).toBe(true);
      expect(['stop', 'length']).toContain(last.done_reason);
      for (const k of METRICS) expect(typeof last[k]).toBe('number');
    },
  );

  it('"stream": false gives one JSON object', async () => {
    const r = await postJson(`${url}/api/chat`, { ...chat, stream: false });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json).toMatchObject({ model: 'tinyllama', done: true, message: { role: 'assistant' } });
  });

  it('a mid-stream upstream error ends with an {"error"} line and no done line', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const r = await postJson(`${url}/api/chat`, chat);
    expect(r.status).toBe(200);
    const ls = lines(r.text);
    expect(typeof ls.at(-1)?.error).toBe('string');
    expect(ls.some((l) => l.done === true)).toBe(false);
  });

  it('client disconnect mid-stream frees the upstream slot', async () => {
    s.sim.setFaults({ stallRate: 1 });
    const ac = new AbortController();
    const res = await request(`${url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', prompt: 'stall' }),
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    ac.abort();
    await res.body.text().catch(() => undefined);
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
    expect(s.sim.stats().aborted).toBeGreaterThanOrEqual(1);
  });
});

describe('Ollama surface: errors as {"error": "..."}', () => {
  it.each([
    ['bad JSON', 400, '{"model":', 'application/json'],
    ['body too large', 413, JSON.stringify({ ...chat, pad: 'x'.repeat(4096) }), 'application/json'],
    ['missing model', 400, JSON.stringify({ messages: [] }), 'application/json'],
    [
      'unknown model before the stream starts',
      404,
      JSON.stringify({ ...chat, model: 'missing' }),
      'application/json',
    ],
  ])('%s → %i', async (_name, status, body, type) => {
    const r = await postJson(`${url}/api/chat`, body, { 'content-type': type, 'x-request-id': 'err-1' });
    expect(r.status).toBe(status);
    // Error replies carry the request id too, including those Fastify raises itself (400, 413).
    expect(r.headers.get('x-request-id')).toBe('err-1');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(typeof r.json.error).toBe('string');
  });

  it('upstream busy → 503 with Retry-After', async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const r = await postJson(`${url}/api/generate`, { model: 'tinyllama', prompt: 'x', stream: false });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(typeof r.json.error).toBe('string');
  });
});

describe('Ollama surface: Ollama server habits', () => {
  it('accepts a JSON body sent as form data (curl -d without a content type)', async () => {
    const r = await postJson(
      `${url}/api/generate`,
      JSON.stringify({ model: 'tinyllama', prompt: 'x', stream: false }),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    expect(r.status).toBe(200);
    expect(r.json.done).toBe(true);
  });

  it('an empty chat or prompt loads the model without generating; unknown models are 404', async () => {
    const a = await postJson(`${url}/api/chat`, { model: 'tinyllama', messages: [] });
    expect(a.json).toMatchObject({ done: true, done_reason: 'load' });
    const b = await postJson(`${url}/api/generate`, { model: 'tinyllama', keep_alive: 0 });
    expect(b.json).toMatchObject({ done: true, done_reason: 'unload', response: '' });
    expect((await postJson(`${url}/api/generate`, { model: 'missing' })).status).toBe(404);
    expect(s.sim.stats().generations).toBe(0);
  });

  it('empty embed input answers [] without an upstream call', async () => {
    const r = await postJson(`${url}/api/embed`, { model: 'nomic-embed-text', input: [] });
    expect(r.json).toEqual({ model: 'nomic-embed-text', embeddings: [] });
    expect(s.sim.stats().generations).toBe(0);
  });

  it('HEAD /api/tags and GET /api/version', async () => {
    expect((await fetch(`${url}/api/tags`, { method: 'HEAD' })).status).toBe(200);
    const v = await fetch(`${url}/api/version`);
    expect(await v.json()).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown });
  });

  it('/api/show accepts the older "name" field; unknown → 404', async () => {
    const r = await postJson(`${url}/api/show`, { name: 'tinyllama' });
    expect(r.status).toBe(200);
    expect(r.json).toHaveProperty('details');
    expect((await postJson(`${url}/api/show`, { model: 'missing' })).status).toBe(404);
  });
});

/** One request on its own connection with `connection` as its Connection header. */
function onOwnConnection(path: string, body: unknown, connection: string) {
  return new Promise<{ status: number; connection: string | undefined; socketClosed: boolean }>(
    (resolve, reject) => {
      const payload = JSON.stringify(body);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const req = http.request(`${url}${path}`, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          connection,
          'content-length': Buffer.byteLength(payload),
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          // The server closes a `close` connection right after the response; a kept-alive one stays.
          setTimeout(() => {
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              socketClosed: req.socket?.destroyed ?? true,
            });
            agent.destroy();
          }, 100);
        });
      });
      req.end(payload);
    },
  );
}

describe("streamed answers honour the client's Connection header", () => {
  it.each([
    ['/api/chat', chat],
    ['/v1/chat/completions', { ...chat, stream: true }],
  ])(
    '%s: "close" is answered with close and the connection ends; keep-alive stays open',
    async (path, body) => {
      const closed = await onOwnConnection(path, body, 'close');
      expect(closed).toEqual({ status: 200, connection: 'close', socketClosed: true });
      const kept = await onOwnConnection(path, body, 'keep-alive');
      expect(kept).toEqual({ status: 200, connection: 'keep-alive', socketClosed: false });
    },
  );
});
