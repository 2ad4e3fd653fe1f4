import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaAdapter } from '../../src/upstreams/ollama/adapter.js';
import { createOpenAIAdapter } from '../../src/upstreams/openai/adapter.js';
import type { UpstreamTimeouts } from '../../src/config/upstreams.js';
import type { UpstreamAdapter } from '../../src/upstreams/types.js';
import { chatReq, collect, upstreamConfig } from '../contracts/helpers.js';
import { startScripted, writeSlowly } from './scripted-server.js';
import type { ScriptedServer } from './scripted-server.js';

const sse = (obj: unknown): string => `data: ${JSON.stringify(obj)}\n\n`;
const ndjson = (obj: unknown): string => `${JSON.stringify(obj)}\n`;
const delta = (content: string): unknown => ({
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

describe('adapters against a misbehaving upstream', () => {
  let up: ScriptedServer;
  const opened: UpstreamAdapter[] = [];
  const signal = new AbortController().signal;
  const ollama = (timeouts: Partial<UpstreamTimeouts> = {}): UpstreamAdapter => {
    const a = createOllamaAdapter(upstreamConfig('ollama', up.url, timeouts));
    opened.push(a);
    return a;
  };
  const openai = (timeouts: Partial<UpstreamTimeouts> = {}): UpstreamAdapter => {
    const a = createOpenAIAdapter(upstreamConfig('openai', `${up.url}/v1`, timeouts));
    opened.push(a);
    return a;
  };
  const both = (timeouts: Partial<UpstreamTimeouts> = {}): Array<[string, UpstreamAdapter]> => [
    ['ollama', ollama(timeouts)],
    ['openai', openai(timeouts)],
  ];
  /** The upstream answers `n` one-number deltas in a single write; returns the text they make. */
  const burst = (n: number): string => {
    up.script = (q, res) => {
      const lines: string[] = [];
      if (q.url?.startsWith('/v1')) {
        for (let i = 0; i < n; i++) lines.push(sse(delta(`${i},`)));
        lines.push(sse({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), 'data: [DONE]\n\n');
      } else {
        for (let i = 0; i < n; i++) lines.push(ndjson({ message: { content: `${i},` }, done: false }));
        lines.push(ndjson({ message: { content: '' }, done: true, done_reason: 'stop' }));
      }
      res.end(lines.join('')); // one write: hundreds of items in the first network chunks
    };
    return Array.from({ length: n }, (_, i) => `${i},`).join('');
  };

  beforeAll(async () => {
    up = await startScripted();
  });
  afterAll(() => up.close());
  afterEach(async () => {
    up.requests.length = 0;
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  it('a non-JSON 200 body → 502 bad response', async () => {
    up.script = (_q, res) => res.end('<html>proxy error</html>');
    for (const [, a] of both()) {
      await expect(collect(a.chat(chatReq(), signal))).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE',
        status: 502,
      });
    }
  });

  it('an invalid JSON line in a stream → 502 bad response', async () => {
    up.script = (q, res) =>
      writeSlowly(
        res,
        q.url?.startsWith('/v1')
          ? [sse(delta('a')), 'data: {oops\n\n']
          : [ndjson({ message: { content: 'a' } }), '{oops\n'],
      );
    for (const [, a] of both()) {
      await expect(collect(a.chat(chatReq({ stream: true }), signal))).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE',
      });
    }
  });

  it('a stream that ends without its final object → 502 bad response', async () => {
    up.script = (q, res) =>
      writeSlowly(
        res,
        q.url?.startsWith('/v1') ? [sse(delta('a'))] : [ndjson({ message: { content: 'a' }, done: false })],
      );
    for (const [, a] of both()) {
      await expect(collect(a.chat(chatReq({ stream: true }), signal))).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE',
      });
    }
  });

  it('the connection dropping mid-stream → 502 upstream error', async () => {
    up.script = (q, res) => {
      res.writeHead(200);
      res.write(
        q.url?.startsWith('/v1') ? sse(delta('a')) : ndjson({ message: { content: 'a' }, done: false }),
      );
      setTimeout(() => res.destroy(), 20);
    };
    for (const [, a] of both()) {
      await expect(collect(a.chat(chatReq({ stream: true }), signal))).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_ERROR',
        status: 502,
      });
    }
  });

  it('503 with Retry-After → busy with that Retry-After; 404 on a model-less call → 502', async () => {
    up.script = (q, res) => {
      if (q.method === 'GET') res.writeHead(404).end('404 page not found');
      else res.writeHead(503, { 'retry-after': '7' }).end('{"error":"server busy"}');
    };
    for (const [, a] of both()) {
      await expect(collect(a.chat(chatReq(), signal))).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_BUSY',
        retryAfter: 7,
      });
      await expect(a.listModels(signal)).rejects.toMatchObject({
        code: 'SUTAZAI_ERR_UPSTREAM_ERROR',
        status: 502,
      });
    }
  });

  it('UTF-8 characters split across network chunks arrive intact', async () => {
    const text = 'héllo 🌍 wörld';
    up.script = (q, res) => {
      const bytes = Buffer.from(
        q.url?.startsWith('/v1')
          ? sse(delta(text)) +
              sse({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
              'data: [DONE]\n\n'
          : ndjson({ message: { content: text }, done: false }) +
              ndjson({ message: { content: '' }, done: true }),
      );
      // Cut inside every multi-byte sequence.
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 3) parts.push(bytes.subarray(i, i + 3));
      writeSlowly(res, parts);
    };
    for (const [, a] of both()) {
      const r = await collect(a.chat(chatReq({ stream: true }), signal));
      expect(r.text).toBe(text);
    }
  });

  it('a burst far ahead of a slow consumer arrives whole and in order (the body pauses and resumes)', async () => {
    const want = burst(600);
    for (const [, a] of both()) {
      let text = '';
      let k = 0;
      let done = false;
      for await (const c of a.chat(chatReq({ stream: true }), signal)) {
        if (c.type === 'delta') text += c.text;
        if (c.type === 'done') done = true;
        // A consumer slower than the upstream: the parsed backlog passes the pause threshold.
        if (++k % 50 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      expect(text).toBe(want);
      expect(done).toBe(true);
    }
  });

  it('a consumer that stops reading for longer than idleMs is not an upstream timeout', async () => {
    const want = burst(2000); // ~100 KB: more than one network chunk, so the body pauses too
    for (const [, a] of both({ idleMs: 150 })) {
      let text = '';
      let k = 0;
      for await (const c of a.chat(chatReq({ stream: true }), signal)) {
        if (c.type === 'delta') text += c.text;
        // The client behind this consumer stalls twice, each time well past idleMs.
        if (++k === 1 || k === 1500) await new Promise((r) => setTimeout(r, 400));
      }
      expect(text).toBe(want);
    }
  });

  it('ollama: text on the final line is kept; metrics absent → usage 0; load done_reason → stop', async () => {
    up.script = (_q, res) =>
      writeSlowly(res, [
        ndjson({ message: { content: 'a' }, done: false }),
        ndjson({ message: { content: 'b' }, done: true, done_reason: 'load' }),
      ]);
    const r = await collect(ollama().chat(chatReq({ stream: true }), signal));
    expect(r.text).toBe('ab');
    expect(r.finishReason).toBe('stop');
    expect(r.usage).toEqual({ promptTokens: 0, completionTokens: 0 });
  });

  it('openai: SSE comments, CRLF, interleaved parallel tool-call fragments, `event: error`', async () => {
    const frag = (index: number, fn: Record<string, string>, id?: string): unknown => ({
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] },
        },
      ],
    });
    up.script = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      writeSlowly(res, [
        ': keep-alive\r\n\r\n',
        sse(frag(0, { name: 'a', arguments: '' }, 'id_a')).replace(/\n/g, '\r\n'),
        sse(frag(1, { name: 'b', arguments: '{"y":' }, 'id_b')),
        sse(frag(0, { arguments: '{"x":1}' })),
        sse(frag(1, { arguments: '2}' })),
        sse({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
        sse({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }),
        'data: [DONE]\n\n',
      ]);
    };
    const r = await collect(openai().chat(chatReq({ stream: true }), signal));
    expect(r.chunks.filter((c) => c.type === 'tool_calls')).toHaveLength(1);
    expect(r.toolCalls).toEqual([
      { id: 'id_a', name: 'a', arguments: { x: 1 } },
      { id: 'id_b', name: 'b', arguments: { y: 2 } },
    ]);
    expect(r.finishReason).toBe('tool_calls');
    expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 4 });

    up.script = (_q, res) =>
      writeSlowly(res, [sse(delta('a')), 'event: error\ndata: {"error":{"message":"boom"}}\n\n']);
    const err = await collect(openai().chat(chatReq({ stream: true }), signal)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SUTAZAI_ERR_UPSTREAM_ERROR', status: 502 });
    expect((err as Error).message).toContain('boom');
  });
});
