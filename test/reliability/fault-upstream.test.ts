import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseSse, waitFor } from '../helpers/http.js';
import { startScripted, type ScriptedServer } from '../upstreams/scripted-server.js';

/*
 * Fault suite, upstream side (issue 23, item 1), on every surface over real HTTP: the upstream
 * killed mid-stream, hanging before its headers or between chunks, or answering garbage. Each
 * ends in a protocol-correct way (a 5xx in the surface's envelope before the first byte, one error
 * frame after it), never hangs, and leaves no stream open in the gateway.
 */

const line = (content: string, done = false) =>
  `${JSON.stringify({ model: 'tinyllama', message: { role: 'assistant', content }, done, ...(done ? { done_reason: 'stop' } : {}) })}\n`;

/** What the scripted upstream does, chosen by the prompt's first word. */
function behave(mode: string, res: ServerResponse, stream: boolean): void {
  switch (mode) {
    case 'kill': // a few tokens, then the connection is destroyed (the process died)
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line('one ') + line('two '));
      setTimeout(() => res.socket?.destroy(), 30);
      return;
    case 'hang-headers': // accepts the request and never answers
      return;
    case 'hang-chunks': // two tokens, then silence with the connection open
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line('one ') + line('two '));
      return;
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway (nginx)</body></html>');
      return;
    case 'badjson':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"model":"tinyllama","message":{"role":"assistant","content":"x"}\n{not json\n');
      return;
    case 'truncated': // tokens, then a clean end without the final done line
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(line('one ') + line('two '));
      return;
    default:
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(line('fine', true));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(line('fine ') + line('', true));
  }
}

interface Surface {
  name: string;
  streamPath: string;
  plainPath: string;
  body(prompt: string, stream: boolean): unknown;
  /** The error code (or message) of the stream's last frame, undefined when it ended normally. */
  streamError(text: string): string | undefined;
  /** The error of a non-streaming error body in the surface's envelope. */
  plainError(json: unknown): string;
}

const dataFrames = (t: string) =>
  t
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));

const SURFACES: Surface[] = [
  {
    name: 'v1',
    streamPath: '/api/v1/chat/stream',
    plainPath: '/api/v1/chat',
    body: (message) => ({ model: 'tinyllama', message }),
    streamError(t) {
      const last = parseSse(t).at(-1);
      return last?.event === 'error' ? (last.data as { error: { code: string } }).error.code : undefined;
    },
    plainError: (j) => (j as { error: { code: string } }).error.code,
  },
  {
    name: 'openai',
    streamPath: '/v1/chat/completions',
    plainPath: '/v1/chat/completions',
    body: (content, stream) => ({ model: 'tinyllama', stream, messages: [{ role: 'user', content }] }),
    streamError(t) {
      const last = dataFrames(t).at(-1);
      if (!last || last === '[DONE]') return undefined;
      const j = JSON.parse(last) as { error?: { code: string } };
      return j.error?.code;
    },
    plainError: (j) => (j as { error: { code: string; type: string } }).error.code,
  },
  {
    name: 'ollama',
    streamPath: '/api/chat',
    plainPath: '/api/chat',
    body: (content, stream) => ({ model: 'tinyllama', stream, messages: [{ role: 'user', content }] }),
    streamError(t) {
      const lines = t.split('\n').filter((l) => l.trim());
      const last = JSON.parse(lines.at(-1) ?? '{}') as { error?: string };
      return last.error;
    },
    plainError: (j) => (j as { error: string }).error,
  },
];

let up: ScriptedServer;
let gw: TestGateway;
beforeAll(async () => {
  up = await startScripted();
  up.script = (req, res, body) => {
    if (req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: [{ name: 'tinyllama:latest', model: 'tinyllama:latest' }] }));
      return;
    }
    if (req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.12.6"}');
      return;
    }
    if (req.url === '/api/ps') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[]}');
      return;
    }
    if (body === undefined || body === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const b = body as { messages?: Array<{ content: string }>; stream?: boolean };
    behave((b.messages?.at(-1)?.content ?? '').split(' ')[0] ?? '', res, b.stream !== false);
  };
  gw = await startTestGateway({
    upstreams: [`ollama=${up.url}`],
    cacheMode: 'off',
    timeoutMs: 1000,
    streamIdleTimeoutMs: 800,
    // Each fault's own answer is under test here, one after another on the one upstream; its
    // circuit opening after a run of failures is test/routing's subject, so keep it closed.
    breakerFailures: 1000,
  });
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

async function post(path: string, body: unknown) {
  const r = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000), // a hang fails the test instead of stalling it
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const noStreamLeft = () => waitFor(() => (gw.app.sutazaiStreams?.size ?? 0) === 0, 3000, 'no open stream');

describe.each(SURFACES)('upstream faults on the $name surface', (s) => {
  it('upstream killed mid-stream → the stream ends with one error frame; nothing left open', async () => {
    const r = await post(s.streamPath, s.body(`kill ${s.name}`, true));
    expect(r.status).toBe(200);
    expect(s.streamError(r.text)).toMatch(/SUTAZAI_ERR_UPSTREAM_ERROR|failed|upstream/);
    await noStreamLeft();
  });

  it('upstream hangs before its headers → 504 in the envelope (plain and streaming)', async () => {
    const plain = await post(s.plainPath, s.body(`hang-headers ${s.name}`, false));
    expect(plain.status).toBe(504);
    expect(s.plainError(JSON.parse(plain.text))).toMatch(/SUTAZAI_ERR_UPSTREAM_TIMEOUT|timed out/);
    const streamed = await post(s.streamPath, s.body(`hang-headers ${s.name} s`, true));
    expect(streamed.status).toBe(504);
  });

  it('upstream hangs between chunks → the stream ends with a timeout error frame', async () => {
    const r = await post(s.streamPath, s.body(`hang-chunks ${s.name}`, true));
    expect(r.status).toBe(200);
    expect(s.streamError(r.text)).toMatch(/SUTAZAI_ERR_UPSTREAM_TIMEOUT|timed out/);
    await noStreamLeft();
  });

  it('garbage (a 200 with HTML, invalid JSON, a truncated stream) → 502, never a 200 with error text', async () => {
    for (const mode of ['html', 'badjson', 'truncated']) {
      const r = await post(s.plainPath, s.body(`${mode} ${s.name}`, false));
      expect(r.status, mode).toBe(502);
      expect(s.plainError(JSON.parse(r.text)), mode).toMatch(
        /SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE|bad response/,
      );
    }
    const html = await post(s.streamPath, s.body(`html ${s.name} s`, true));
    expect(html.status).toBe(502);
    const truncated = await post(s.streamPath, s.body(`truncated ${s.name} s`, true));
    expect(truncated.status).toBe(200);
    expect(s.streamError(truncated.text)).toMatch(/SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE|bad response/);
  });

  it('the gateway is fine afterwards', async () => {
    const r = await post(s.plainPath, s.body(`ok ${s.name}`, false));
    expect(r.status).toBe(200);
  });
});
