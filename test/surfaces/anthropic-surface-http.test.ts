import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parseSse, postJson } from '../helpers/http.js';

/** POST /v1/messages over real HTTP: envelope, headers, the exact SSE event sequence, the pipeline. */

let s: Stack;
let url: string;
const body = { model: 'tinyllama', max_tokens: 6, messages: [{ role: 'user', content: 'hello there' }] };
const headers = { 'x-api-key': 'sk-ant-anything', 'anthropic-version': '2023-06-01' };

beforeAll(async () => {
  s = await startStack({ sim: { tps: 0 }, gateway: { cacheMode: 'all' } });
  url = `${s.gw.url}/v1/messages`;
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => {
  s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
});

describe('Anthropic surface over HTTP', () => {
  it('x-api-key and anthropic-version are accepted; request-id header; the cache serves a repeat', async () => {
    // temperature 0: deterministic, so cached under any cache policy.
    const q = { ...body, temperature: 0, messages: [{ role: 'user', content: 'cache me please' }] };
    const a = await postJson(url, q, headers);
    expect(a.status).toBe(200);
    expect(a.headers.get('request-id')).toBe(a.headers.get('x-request-id'));
    expect(a.headers.get('x-sutazai-cache')).toBe('miss');
    const b = await postJson(url, q, headers);
    expect(b.headers.get('x-sutazai-cache')).toMatch(/^hit/);
    expect((b.json.content as unknown[])[0]).toEqual((a.json.content as unknown[])[0]);
  });

  it('an agent-tool request (?beta=true, cache_control, anthropic-beta, metadata) is served', async () => {
    const r = await postJson(
      `${url}?beta=true`,
      {
        model: 'tinyllama',
        max_tokens: 32000,
        stream: false,
        temperature: 1,
        system: [{ type: 'text', text: 'You are an agent.', cache_control: { type: 'ephemeral' } }],
        metadata: { user_id: 'user_abc' },
        context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
        tools: [
          {
            name: 'Read',
            description: 'Read a file',
            input_schema: { type: 'object', properties: { path: { type: 'string' } } },
            cache_control: { type: 'ephemeral' },
          },
        ],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] },
        ],
      },
      { ...headers, 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
    );
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
  });

  it('stream: named events in the exact order, event name = data.type', async () => {
    const r = await postJson(
      url,
      { ...body, stream: true, messages: [{ role: 'user', content: 'stream it' }] },
      headers,
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ev = parseSse(r.text);
    for (const e of ev) expect((e.data as { type: string }).type).toBe(e.event);
    expect(ev.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array<string>(6).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('a mid-stream failure ends with one error event in the envelope', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const r = await postJson(url, {
      ...body,
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'fail' }],
    });
    const last = parseSse(r.text).at(-1);
    expect(last?.event).toBe('error');
    expect(last?.data).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it.each([
    ['invalid JSON', 'POST', '', '{"model":', 400, 'invalid_request_error'],
    ['unknown path under /v1/messages', 'POST', '/batches', '{}', 404, 'not_found_error'],
    ['wrong method', 'GET', '', undefined, 404, 'not_found_error'],
    ['count_tokens (not offered)', 'POST', '/count_tokens', '{}', 404, 'not_found_error'],
  ])('%s → status and type in the Anthropic envelope', async (_n, method, to, payload, status, type) => {
    const res = await fetch(url + to, {
      method,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: payload }),
    });
    expect(res.status).toBe(status);
    const j = (await res.json()) as {
      type: string;
      error: { type: string; message: string };
      request_id: string;
    };
    expect(j.type).toBe('error');
    expect(j.request_id).toBe(res.headers.get('request-id'));
    expect(j.error.type).toBe(type);
    expect(j.error.message.length).toBeGreaterThan(0);
  });

  it('the rest of /v1 keeps the OpenAI envelope', async () => {
    const r = await postJson(`${s.gw.url}/v1/nope`, {});
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ type: 'not_found_error' });
    expect(r.json.type).toBeUndefined();
  });
});
