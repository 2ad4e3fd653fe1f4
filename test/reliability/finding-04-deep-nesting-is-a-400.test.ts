import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../src/http/json-body.js';
import { startStack, type Stack } from '../helpers/gateway.js';

// Issue 23, finding 4: `options` nested 5,000 levels deep → 500 (stack overflow while building the
// cache key). Bounded at parsing now: 400 in each surface's envelope, and the gateway carries on.

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s.close();
});

function nested(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

async function send(path: string, body: string) {
  const r = await fetch(`${s.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('finding 4: deep nesting is a 400, not a 500', () => {
  const deep = nested(5000);
  it('v1: 400 in the SutazAI envelope', async () => {
    const r = await send('/api/v1/chat', `{"message":"hi","options":${deep}}`);
    expect(r.status).toBe(400);
    expect((r.body.error as { code: string; message: string }).message).toMatch(/nested deeper than 64/);
  });
  it('OpenAI: 400 in the OpenAI envelope', async () => {
    const r = await send(
      '/v1/chat/completions',
      `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`,
    );
    expect(r.status).toBe(400);
    expect((r.body.error as { message: string; type: string }).type).toBe('invalid_request_error');
  });
  it('Ollama: 400 as {"error":"..."}, also without a JSON content type', async () => {
    const r = await fetch(`${s.gw.url}/api/chat`, {
      method: 'POST',
      body: `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"options":${deep}}`,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/nested deeper than 64/);
  });
  it('still serves ordinary requests afterwards, and accepts nesting up to the bound', async () => {
    const ok = await send('/api/v1/chat', `{"message":"still fine","options":{"stop":["x"]}}`);
    expect(ok.status).toBe(200);
    expect(jsonDepthExceeds(nested(64), 64)).toBe(false);
    expect(jsonDepthExceeds(nested(65), 64)).toBe(true);
    // Brackets inside strings (and escaped quotes) do not count.
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 3)).toBe(false);
  });
});
