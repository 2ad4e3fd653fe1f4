import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

// Issue 23, finding 10: a page on another origin made a browser POST text/plain to /api/generate
// and it ran; POST /api/v1/cache/clear from a foreign origin deleted the cache; DNS rebinding
// against a gateway on localhost was possible (no Host check).

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, so the test controls Host and Origin exactly as a browser would send them. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers, setHost: false, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const generate = JSON.stringify({ model: 'tinyllama', prompt: 'cross-site', stream: false });

describe('finding 10: cross-site requests and DNS rebinding (defaults: CORS closed)', () => {
  let s: Stack;
  let port: number;
  beforeAll(async () => {
    s = await startStack();
    port = Number(new URL(s.gw.url).port);
  });
  afterAll(async () => {
    await s.close();
  });
  const local = () => `127.0.0.1:${port}`;

  it('refuses a foreign-origin text/plain POST to /api/generate in the Ollama envelope', async () => {
    const before = s.sim.stats().generations;
    const r = await send(
      port,
      'POST',
      '/api/generate',
      { host: local(), origin: 'https://evil.example', 'content-type': 'text/plain' },
      generate,
    );
    expect(r.status).toBe(403);
    const body = JSON.parse(r.body) as { error: unknown };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(/evil\.example.*SUTAZAI_ORIGINS/);
    expect(s.sim.stats().generations).toBe(before);
  });

  it('refuses a foreign-origin cache clear (v1 envelope) and an OpenAI chat (OpenAI envelope)', async () => {
    const clear = await send(port, 'POST', '/api/v1/cache/clear', {
      host: local(),
      origin: 'http://attacker.test',
    });
    expect(clear.status).toBe(403);
    expect(JSON.parse(clear.body)).toMatchObject({ error: { code: 'SUTAZAI_ERR_ORIGIN_NOT_ALLOWED' } });
    const chat = await send(
      port,
      'POST',
      '/v1/chat/completions',
      { host: local(), origin: 'null', 'content-type': 'application/json' },
      JSON.stringify({ model: 'tinyllama', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(chat.status).toBe(403);
    expect(JSON.parse(chat.body)).toMatchObject({
      error: { type: 'permission_error', code: 'SUTAZAI_ERR_ORIGIN_NOT_ALLOWED' },
    });
  });

  it('still accepts curl -d (no Origin, form content type) and the same origin (the dashboard)', async () => {
    const curl = await send(
      port,
      'POST',
      '/api/generate',
      { host: local(), 'content-type': 'application/x-www-form-urlencoded' },
      generate,
    );
    expect(curl.status).toBe(200);
    expect(JSON.parse(curl.body)).toMatchObject({ done: true });
    const same = await send(port, 'POST', '/api/v1/cache/clear', {
      host: local(),
      origin: `http://${local()}`,
    });
    expect(same.status).toBe(200);
  });

  it('refuses a rebound Host name on every method; loopback names and no Host pass', async () => {
    const rebound = await send(port, 'GET', '/api/v1/settings', { host: `rebind.attacker.test:${port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'SUTAZAI_ERR_HOST_NOT_ALLOWED' } });
    // The rebinding page's POST is same-origin for the browser (Origin = its own name): still refused.
    const post = await send(
      port,
      'POST',
      '/api/generate',
      { host: `rebind.attacker.test:${port}`, origin: `http://rebind.attacker.test:${port}` },
      generate,
    );
    expect(post.status).toBe(403);
    for (const host of [`localhost:${port}`, `[::1]:${port}`, local(), `app.localhost:${port}`]) {
      expect((await send(port, 'GET', '/api/v1/settings', { host })).status).toBe(200);
    }
  });

  it('sends no CORS headers and answers no preflight by default', async () => {
    const r = await send(port, 'GET', '/api/tags', { host: local(), origin: 'https://evil.example' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await send(port, 'OPTIONS', '/api/chat', {
      host: local(),
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('finding 10: configured origins and hosts', () => {
  let s: Stack;
  let port: number;
  beforeAll(async () => {
    s = await startStack({
      gateway: {
        allowedOrigins: ['https://ui.example', 'http://localhost:*'],
        allowedHosts: ['gw.internal'],
      },
    });
    port = Number(new URL(s.gw.url).port);
  });
  afterAll(async () => {
    await s.close();
  });

  it('lets listed origins POST and gives them CORS headers and preflights; others stay refused', async () => {
    const host = `127.0.0.1:${port}`;
    const ok = await send(
      port,
      'POST',
      '/api/generate',
      { host, origin: 'https://ui.example', 'content-type': 'application/json' },
      generate,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://ui.example');
    const wild = await send(
      port,
      'POST',
      '/api/generate',
      { host, origin: 'http://localhost:3000', 'content-type': 'application/json' },
      generate,
    );
    expect(wild.status).toBe(200);
    const pre = await send(port, 'OPTIONS', '/v1/chat/completions', {
      host,
      origin: 'https://ui.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,authorization',
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://ui.example');
    const other = await send(
      port,
      'POST',
      '/api/generate',
      { host, origin: 'https://ui.example.evil', 'content-type': 'application/json' },
      generate,
    );
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves a Host listed in SUTAZAI_ALLOWED_HOSTS', async () => {
    expect((await send(port, 'GET', '/api/v1/settings', { host: `gw.internal:${port}` })).status).toBe(200);
    expect((await send(port, 'GET', '/api/v1/settings', { host: `other.internal:${port}` })).status).toBe(
      403,
    );
  });
});
