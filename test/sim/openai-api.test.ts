import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { call, json, post, sseData, words } from './helpers.js';

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ models: ['llama3.2'], embedModels: ['nomic-embed-text'], defaultTokens: 10 });
});
afterAll(async () => {
  await sim.close();
});

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

const user = (content: string): { role: string; content: string }[] => [{ role: 'user', content }];

describe('OpenAI /v1/chat/completions', () => {
  it('non-stream: chat.completion with usage; completion_tokens = words of the content', async () => {
    const r = await post(`${sim.url}/v1/chat/completions`, {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'you are terse' },
        { role: 'user', content: [{ type: 'text', text: 'hello there' }] },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const b = json<{
      id: string;
      object: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    }>(r);
    expect(b.id).toMatch(/^chatcmpl-/);
    expect(b.object).toBe('chat.completion');
    expect(b.choices[0]?.message.role).toBe('assistant');
    expect(b.choices[0]?.finish_reason).toBe('stop');
    expect(b.usage).toEqual({ prompt_tokens: 5, completion_tokens: 10, total_tokens: 15 });
    expect(words(b.choices[0]?.message.content ?? '')).toBe(10);
  });

  it('stream: role chunk, content chunks, finish chunk, usage chunk only with include_usage, [DONE]', async () => {
    const r = await post(`${sim.url}/v1/chat/completions`, {
      model: 'llama3.2',
      messages: user('hello'),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4,
    });
    expect(r.headers['content-type']).toBe('text/event-stream');
    const data = sseData(r.text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.slice(1, 5).map((c) => c.choices[0]?.delta.content as string);
    expect(content).toHaveLength(4);
    expect(content.join('').split(' ')).toHaveLength(4);
    const finish = chunks[5];
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    const usage = chunks[6];
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
    expect(chunks).toHaveLength(7);
    expect(chunks.slice(0, 6).every((c) => c.usage === null && c.object === 'chat.completion.chunk')).toBe(
      true,
    );

    const plain = sseData(
      (
        await post(`${sim.url}/v1/chat/completions`, {
          model: 'llama3.2',
          messages: user('hello'),
          stream: true,
        })
      ).text,
    );
    const parsed = plain.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(parsed.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
    expect(parsed.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('max_completion_tokens is preferred over max_tokens', async () => {
    const b = json<{ usage: { completion_tokens: number }; choices: { finish_reason: string }[] }>(
      await post(`${sim.url}/v1/chat/completions`, {
        model: 'llama3.2',
        messages: user('x'),
        max_tokens: 8,
        max_completion_tokens: 3,
      }),
    );
    expect(b.usage.completion_tokens).toBe(3);
    expect(b.choices[0]?.finish_reason).toBe('length');
  });

  it('tool call: arguments as a JSON string, finish_reason tool_calls (stream and not)', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'lookup',
          parameters: {
            type: 'object',
            properties: { location: { type: 'string' }, days: { type: 'integer' } },
          },
        },
      },
    ];
    const b = json<{
      choices: {
        message: {
          content: null;
          tool_calls: { id: string; type: string; function: { name: string; arguments: string } }[];
        };
        finish_reason: string;
      }[];
    }>(
      await post(`${sim.url}/v1/chat/completions`, {
        model: 'llama3.2',
        tools,
        messages: user('weather tomorrow?'),
      }),
    );
    const choice = b.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const tc = choice?.message.tool_calls[0];
    expect(tc).toMatchObject({ type: 'function', function: { name: 'lookup' } });
    expect(tc?.id).toMatch(/^call_/);
    expect(JSON.parse(tc?.function.arguments ?? '')).toMatchObject({ location: 'Paris' });

    const data = sseData(
      (
        await post(`${sim.url}/v1/chat/completions`, {
          model: 'llama3.2',
          tools,
          stream: true,
          messages: user('weather tomorrow?'),
        })
      ).text,
    );
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const deltas = chunks.flatMap(
      (c) =>
        (c.choices[0]?.delta.tool_calls as
          { index: number; id?: string; function: { name?: string; arguments: string } }[] | undefined) ?? [],
    );
    expect(deltas[0]).toMatchObject({
      index: 0,
      id: tc?.id,
      type: 'function',
      function: { name: 'lookup', arguments: '' },
    });
    expect(deltas.map((d) => d.function.arguments).join('')).toBe(tc?.function.arguments);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('response_format json_object gives a JSON object', async () => {
    const b = json<{ choices: { message: { content: string } }[] }>(
      await post(`${sim.url}/v1/chat/completions`, {
        model: 'llama3.2',
        messages: user('x'),
        response_format: { type: 'json_object' },
      }),
    );
    expect(typeof JSON.parse(b.choices[0]?.message.content ?? '')).toBe('object');
  });
});

describe('OpenAI /v1/completions', () => {
  it('non-stream and stream text_completion', async () => {
    const b = json<{
      id: string;
      object: string;
      choices: { text: string; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    }>(
      await post(`${sim.url}/v1/completions`, {
        model: 'llama3.2',
        prompt: 'once upon a time',
        max_tokens: 3,
      }),
    );
    expect(b.id).toMatch(/^cmpl-/);
    expect(b.object).toBe('text_completion');
    expect(b.choices[0]?.finish_reason).toBe('length');
    expect(b.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3 });
    const data = sseData(
      (
        await post(`${sim.url}/v1/completions`, {
          model: 'llama3.2',
          prompt: 'once upon a time',
          max_tokens: 3,
          stream: true,
        })
      ).text,
    );
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data
      .slice(0, -1)
      .map(
        (d) => JSON.parse(d) as { object: string; choices: { text: string; finish_reason: string | null }[] },
      );
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text).join('')).toBe(b.choices[0]?.text);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });
});

describe('OpenAI /v1/embeddings', () => {
  it('float and base64 (little-endian float32) carry the same numbers', async () => {
    const input = ['alpha beta', 'gamma'];
    const f = json<{
      object: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    }>(await post(`${sim.url}/v1/embeddings`, { model: 'nomic-embed-text', input }));
    expect(f.object).toBe('list');
    expect(f.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(f.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const b = json<{ data: { embedding: string }[] }>(
      await post(`${sim.url}/v1/embeddings`, { model: 'nomic-embed-text', input, encoding_format: 'base64' }),
    );
    for (const [i, d] of b.data.entries()) {
      const buf = Buffer.from(d.embedding, 'base64');
      const floats = Array.from({ length: buf.length / 4 }, (_, k) => buf.readFloatLE(k * 4));
      expect(floats).toEqual(f.data[i]?.embedding);
    }
    const small = json<{ data: { embedding: number[] }[] }>(
      await post(`${sim.url}/v1/embeddings`, { model: 'nomic-embed-text', input: 'x', dimensions: 8 }),
    );
    expect(small.data[0]?.embedding).toHaveLength(8);
    const bad = await post(`${sim.url}/v1/embeddings`, {
      model: 'nomic-embed-text',
      input: 'x',
      encoding_format: 'hex',
    });
    expect(bad.status).toBe(400);
    expect(json<{ error: { param: string } }>(bad).error.param).toBe('encoding_format');
  });
});

describe('OpenAI /v1/models', () => {
  it('lists and retrieves models; unknown id → 404 envelope', async () => {
    const list = json<{
      object: string;
      data: { id: string; object: string; owned_by: string; created: number }[];
    }>(await call(`${sim.url}/v1/models`, 'GET'));
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'library' });
    const one = json<{ id: string }>(await call(`${sim.url}/v1/models/llama3.2`, 'GET'));
    expect(one.id).toBe('llama3.2:latest');
    const missing = await call(`${sim.url}/v1/models/${encodeURIComponent('x/y:z')}`, 'GET');
    expect(missing.status).toBe(404);
    expect(json<{ error: { type: string; code: string } }>(missing).error).toMatchObject({
      type: 'not_found_error',
      code: 'model_not_found',
    });
  });
});

describe('OpenAI errors', () => {
  type Env = { error: { message: string; type: string; param: string | null; code: string | null } };
  it('envelope with type and param for 400/404/405', async () => {
    const bad = await post(`${sim.url}/v1/chat/completions`, '{oops');
    expect(bad.status).toBe(400);
    expect(json<Env>(bad).error.type).toBe('invalid_request_error');
    const empty = await post(`${sim.url}/v1/chat/completions`, { model: 'llama3.2', messages: [] });
    expect(json<Env>(empty).error).toMatchObject({
      message: "[] is too short - 'messages'",
      param: 'messages',
    });
    const wrong = await post(`${sim.url}/v1/chat/completions`, {
      model: 'llama3.2',
      messages: user('x'),
      max_tokens: 'many',
    });
    expect(json<Env>(wrong).error.param).toBe('max_tokens');
    const temp = await post(`${sim.url}/v1/chat/completions`, {
      model: 'llama3.2',
      messages: user('x'),
      temperature: 5,
    });
    expect(json<Env>(temp).error.param).toBe('temperature');
    const unknown = await post(`${sim.url}/v1/chat/completions`, { model: 'gpt-9', messages: user('x') });
    expect(unknown.status).toBe(404);
    expect(json<Env>(unknown).error).toMatchObject({ param: 'model', code: 'model_not_found' });
    const method = await call(`${sim.url}/v1/chat/completions`, 'GET');
    expect(method.status).toBe(405);
    expect(json<Env>(method).error.type).toBe('invalid_request_error');
    const route = await call(`${sim.url}/v1/nothing`, 'GET');
    expect(route.status).toBe(404);
    expect(json<Env>(route).error.type).toBe('not_found_error');
  });
});
