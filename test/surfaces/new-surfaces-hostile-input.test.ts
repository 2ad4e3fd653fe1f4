import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

/**
 * Every field of a full, valid request to /v1/messages and /v1/responses replaced in turn by a
 * value of each JSON type, over real HTTP: each answer is a 200 or a 4xx in the surface's own
 * envelope naming the problem — never a 5xx, never another envelope.
 */

const PNG = 'iVBORw0KGgo=';
const anthropic = {
  model: 'tinyllama',
  max_tokens: 4,
  system: [{ type: 'text', text: 'sys' }],
  stop_sequences: ['END'],
  temperature: 0.5,
  top_k: 3,
  metadata: { user_id: 'u' },
  tool_choice: { type: 'auto' },
  tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'hi' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      ],
    },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
    {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'r' }] }],
    },
  ],
};
const responses = {
  model: 'tinyllama',
  instructions: 'be brief',
  max_output_tokens: 4,
  temperature: 0.5,
  top_p: 0.9,
  tool_choice: 'auto',
  text: { format: { type: 'text' } },
  tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
  input: [
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'hi' },
        { type: 'input_image', image_url: `data:image/png;base64,${PNG}` },
      ],
    },
    { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
    { type: 'function_call_output', call_id: 'c1', output: 'r' },
  ],
};

const REPLACEMENTS: unknown[] = [null, -1, 'x', [], {}, true, 'ü'.repeat(3)];

/** Every path in `v` (objects and arrays, not the root). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...at, i], ...paths(x, [...at, i])]);
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])]);
  return [];
}

function replaced(body: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

let s: Stack;
beforeAll(async () => {
  s = await startStack({ sim: { tps: 0 }, gateway: { cacheMode: 'off' } });
});
afterAll(async () => {
  await s.close();
});

describe.each([
  {
    name: 'anthropic',
    path: '/v1/messages',
    body: anthropic,
    envelope: (j: Record<string, unknown>) => {
      expect(j.type).toBe('error');
      expect(j.error).toMatchObject({
        type: expect.stringMatching(/_error$/) as unknown,
        message: expect.any(String) as unknown,
      });
    },
  },
  {
    name: 'responses',
    path: '/v1/responses',
    body: responses,
    envelope: (j: Record<string, unknown>) => {
      expect(j.error).toMatchObject({
        type: expect.any(String) as unknown,
        message: expect.any(String) as unknown,
      });
      expect(j.type).toBeUndefined();
    },
  },
])('$name: every field, every JSON type', ({ path, body, envelope }) => {
  it('the valid request is served', async () => {
    const r = await postJson(`${s.gw.url}${path}`, body);
    expect(r.status).toBe(200);
  });

  it('each replacement → 200 or a 4xx in the envelope, never a 5xx', async () => {
    const seen = new Map<number, number>();
    for (const p of paths(body)) {
      for (const value of REPLACEMENTS) {
        const r = await postJson(`${s.gw.url}${path}`, replaced(body, p, value));
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status === 200) continue;
        const where = `${p.join('.')} = ${JSON.stringify(value)}`;
        expect(r.status, where).toBeGreaterThanOrEqual(400);
        expect(r.status, where).toBeLessThan(500);
        envelope(r.json);
      }
    }
    // Most replacements are refused: the schema is checked, not ignored.
    expect(seen.get(400) ?? 0).toBeGreaterThan(seen.get(200) ?? 0);
  });
});
