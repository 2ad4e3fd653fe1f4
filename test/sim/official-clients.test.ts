import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ models: ['llama3.2'], embedModels: ['nomic-embed-text'], defaultTokens: 8 });
});
afterAll(async () => {
  await sim.close();
});

describe('ollama npm client against the simulator', () => {
  it('chat, chat stream, generate, embed, list', async () => {
    const ollama = new Ollama({ host: sim.url });
    const messages = [{ role: 'user', content: 'hello there' }];
    const chat = await ollama.chat({ model: 'llama3.2', messages });
    expect(chat.done).toBe(true);
    expect(chat.message.content.split(' ')).toHaveLength(8);
    expect(chat.eval_count).toBe(8);
    expect(chat.prompt_eval_count).toBe(2);

    let streamed = '';
    let last: { done: boolean; done_reason: string } | undefined;
    for await (const part of await ollama.chat({ model: 'llama3.2', messages, stream: true })) {
      streamed += part.message.content;
      last = part;
    }
    expect(streamed).toBe(chat.message.content);
    expect(last).toMatchObject({ done: true, done_reason: 'stop' });

    const gen = await ollama.generate({ model: 'llama3.2', prompt: 'hi', options: { num_predict: 3 } });
    expect(gen.done_reason).toBe('length');
    expect(String(gen.response).split(' ')).toHaveLength(3);

    const emb = await ollama.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(emb.embeddings).toHaveLength(2);
    expect(emb.embeddings[0]).toHaveLength(384);

    const list = await ollama.list();
    expect(list.models.map((m) => m.name)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);

    await expect(ollama.chat({ model: 'missing', messages })).rejects.toMatchObject({ status_code: 404 });
  });
});

describe('openai npm client against the simulator', () => {
  const client = (): OpenAI => new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });

  it('chat, stream with usage, embeddings (default base64), models.list', async () => {
    const openai = client();
    const messages = [{ role: 'user' as const, content: 'hello there' }];
    const c = await openai.chat.completions.create({ model: 'llama3.2', messages });
    expect(c.choices[0]?.finish_reason).toBe('stop');
    expect(c.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 8, total_tokens: 10 });

    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(c.choices[0]?.message.content);
    expect(usage).toMatchObject({ completion_tokens: 8 });

    // The helper validates role/finish_reason bookkeeping.
    const helper = openai.chat.completions.stream({ model: 'llama3.2', messages });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(text);

    const viaSdk = await openai.embeddings.create({ model: 'nomic-embed-text', input: 'hello world' });
    const asFloat = await openai.embeddings.create({
      model: 'nomic-embed-text',
      input: 'hello world',
      encoding_format: 'float',
    });
    expect(viaSdk.data[0]?.embedding).toEqual(asFloat.data[0]?.embedding);
    expect(viaSdk.data[0]?.embedding).toHaveLength(384);

    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    expect(models).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    expect((await openai.models.retrieve('llama3.2')).id).toBe('llama3.2:latest');
  });

  it('tool calls through the stream helper, and errors map to SDK error classes', async () => {
    const openai = client();
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { location: { type: 'string' } } },
        },
      },
    ];
    const s = openai.chat.completions.stream({
      model: 'llama3.2',
      tools,
      messages: [{ role: 'user', content: 'weather?' }],
    });
    const final = await s.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type === 'function') expect(JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });

    await expect(
      openai.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    sim.setFaults({ failNext: 1, failNextStatus: 503 });
    await expect(
      openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });
});
