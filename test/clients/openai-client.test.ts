import { createServer } from 'node:net';
import OpenAI, { APIError, BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, startTestGateway, type Stack, type TestGateway } from '../helpers/gateway.js';

/**
 * The unmodified official `openai` package against a running gateway, in front of the simulator
 * speaking each upstream protocol: an OpenAI-shaped request served by an Ollama upstream, and by an
 * OpenAI-compatible one.
 */

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.each(['ollama', 'openai'] as const)('openai npm client → gateway → %s upstream', (kind) => {
  let s: Stack;
  let client: OpenAI;
  beforeAll(async () => {
    s = await startStack({ kind, sim: { tps: 0 }, gateway: { cacheMode: 'off' } });
    client = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await s.close();
  });
  beforeEach(() => {
    s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  });

  it('chat: text, finish reason, usage, ids and request id', async () => {
    const { data, response, request_id } = await client.chat.completions
      .create({
        model: 'tinyllama',
        messages: [{ role: 'user', content: 'Say something' }],
        max_completion_tokens: 5,
        seed: 3,
      })
      .withResponse();
    expect(data.id).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.role).toBe('assistant');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.choices[0]?.finish_reason).toBe('length');
    expect(data.usage?.completion_tokens).toBe(5);
    expect(data.usage?.total_tokens).toBe((data.usage?.prompt_tokens ?? 0) + 5);
    expect(request_id).toBeTruthy();
    expect(response.headers.get('x-sutazai-cache')).toBe('bypass');
  });

  it('streaming chat: role first, same id/created, finish chunk, usage chunk, same text as non-stream', async () => {
    const params = {
      model: 'tinyllama',
      messages: [{ role: 'user' as const, content: 'Tell a story' }],
      seed: 9,
    };
    const full = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(full.choices[0]?.message.content);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish).toHaveLength(1);
    expect(finish[0]?.choices[0]?.finish_reason).toBe(full.choices[0]?.finish_reason);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual(full.usage);
  });

  it('stream helper (chat.completions.stream) assembles a final completion', async () => {
    const runner = client.chat.completions.stream({
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(final.choices[0]?.finish_reason).toBe('length');
  });

  it('tool calls: arguments as a JSON string, finish_reason tool_calls, result sent back', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the weather in Oslo?' },
    ];
    const first = await client.chat.completions.create({
      model: 'tinyllama',
      messages,
      tools: [weatherTool],
    });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    expect(typeof JSON.parse(call.function.arguments)).toBe('object');
    expect(call.id).toBeTruthy();

    messages.push(choice!.message, { role: 'tool', tool_call_id: call.id, content: '{"temp_c":12}' });
    const second = await client.chat.completions.create({
      model: 'tinyllama',
      messages,
      tools: [weatherTool],
    });
    expect(second.choices[0]?.finish_reason).not.toBe('tool_calls');
    expect(second.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('streamed tool calls satisfy the SDK stream helper', async () => {
    const runner = client.chat.completions.stream({
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'weather in Paris please' }],
      tools: [weatherTool],
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');
  });

  it('completions, plain and streamed', async () => {
    const c = await client.completions.create({
      model: 'tinyllama',
      prompt: 'Once upon a time',
      max_tokens: 6,
      seed: 2,
    });
    expect(c.object).toBe('text_completion');
    expect(c.id).toMatch(/^cmpl-/);
    expect(c.choices[0]?.text.length).toBeGreaterThan(0);
    expect(c.choices[0]?.finish_reason).toBe('length');
    expect(c.usage?.completion_tokens).toBe(6);
    const stream = await client.completions.create({
      model: 'tinyllama',
      prompt: 'Once upon a time',
      max_tokens: 6,
      seed: 2,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(c.choices[0]?.text);
  });

  it('embeddings: the default (base64) decodes to the same floats as encoding_format float', async () => {
    const input = ['the cat sat', 'on the mat'];
    const dflt = await client.embeddings.create({ model: 'nomic-embed-text', input });
    const float = await client.embeddings.create({
      model: 'nomic-embed-text',
      input,
      encoding_format: 'float',
    });
    expect(dflt.data).toHaveLength(2);
    expect(dflt.usage.prompt_tokens).toBeGreaterThan(0);
    for (const i of [0, 1]) {
      const a = dflt.data[i]!.embedding;
      const b = float.data[i]!.embedding;
      expect(a.length).toBeGreaterThan(8);
      expect(a).toEqual(b.map((x) => Math.fround(x)));
    }
  });

  it('models: list and retrieve', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['tinyllama:latest', 'nomic-embed-text:latest']));
    expect(list.data.every((m) => m.object === 'model')).toBe(true);
    const one = await client.models.retrieve('tinyllama');
    expect(one.id).toBe('tinyllama:latest');
  });

  it('unknown model → NotFoundError (chat and retrieve)', async () => {
    const err = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('bad request → BadRequestError naming the param', async () => {
    const err = await client.chat.completions
      .create({ model: 'tinyllama', messages: [{ role: 'user', content: 'x' }], temperature: 7 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as BadRequestError).param).toBe('temperature');
    expect((err as BadRequestError).type).toBe('invalid_request_error');
  });

  it("upstream's 503 → InternalServerError 503 with Retry-After", async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const err = await client.chat.completions
      .create({ model: 'tinyllama', messages: [{ role: 'user', content: 'busy?' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(503);
    expect((err as APIError).headers?.get('retry-after')).toBeTruthy();
  });

  it('a mid-stream upstream error surfaces as an APIError while iterating', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const stream = await client.chat.completions.create({
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'break' }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(seen.length).toBeGreaterThan(0);
  });
});

describe('openai npm client → gateway with its upstream down', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ upstreams: [`ollama=http://127.0.0.1:${await closedPort()}`] });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('→ InternalServerError with status 503', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'tinyllama', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(503);
  });
});
