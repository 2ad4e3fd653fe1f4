import Anthropic, { APIError, NotFoundError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

/**
 * The unmodified official `@anthropic-ai/sdk` against a running gateway (`POST /v1/messages`), in
 * front of the simulator speaking each upstream protocol: Ollama-native and OpenAI-compatible.
 */

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A 1×1 PNG. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const textOf = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

describe.each(['ollama', 'openai'] as const)('@anthropic-ai/sdk → gateway → %s upstream', (kind) => {
  let s: Stack;
  let client: Anthropic;
  beforeAll(async () => {
    s = await startStack({ kind, sim: { tps: 0 }, gateway: { cacheMode: 'off' } });
    client = new Anthropic({ baseURL: s.gw.url, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await s.close();
  });
  beforeEach(() => {
    s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  });

  it('messages.create: text block, stop_reason max_tokens, usage, id and request id', async () => {
    const { data, request_id } = await client.messages
      .create({
        model: 'tinyllama',
        max_tokens: 5,
        system: 'You are terse.',
        messages: [{ role: 'user', content: 'Say something' }],
      })
      .withResponse();
    expect(data.id).toMatch(/^msg_/);
    expect(data.type).toBe('message');
    expect(data.role).toBe('assistant');
    expect(data.content[0]?.type).toBe('text');
    expect(textOf(data).length).toBeGreaterThan(0);
    expect(data.stop_reason).toBe('max_tokens');
    expect(data.stop_sequence).toBeNull();
    // Prompt words: "You are terse." + "Say something" (the simulator counts words).
    expect(data.usage.input_tokens).toBe(5);
    expect(data.usage.output_tokens).toBe(5);
    expect(request_id).toBeTruthy();
  });

  it('a natural end is end_turn; text blocks and an image block are accepted', async () => {
    const m = await client.messages.create({
      model: 'tinyllama',
      max_tokens: 1000,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'text', text: 'this picture?' },
          ],
        },
      ],
    });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.input_tokens).toBe(5);
  });

  it('streaming: raw events in order, same text and usage as the non-streamed answer', async () => {
    const params = {
      model: 'tinyllama',
      max_tokens: 7,
      messages: [{ role: 'user' as const, content: 'Tell a story' }],
    };
    const full = await client.messages.create(params);
    const stream = await client.messages.create({ ...params, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(types.slice(2, -3).every((t) => t === 'content_block_delta')).toBe(true);
    const text = events
      .map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : ''))
      .join('');
    expect(text).toBe(textOf(full));
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta?.type === 'message_delta' && delta.delta.stop_reason).toBe('max_tokens');
    expect(delta?.type === 'message_delta' && delta.usage.output_tokens).toBe(7);
  });

  it('messages.stream helper assembles the final message', async () => {
    const stream = client.messages.stream({
      model: 'tinyllama',
      max_tokens: 4,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let seen = '';
    stream.on('text', (t) => (seen += t));
    const final = await stream.finalMessage();
    expect(textOf(final)).toBe(seen);
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(4);
    expect(final.usage.input_tokens).toBe(1);
  });

  it('tools: tool_use block with an input object, stop_reason tool_use, tool_result sent back', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Oslo?' }];
    const first = await client.messages.create({
      model: 'tinyllama',
      max_tokens: 100,
      messages,
      tools: [weatherTool],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(use.name).toBe('get_weather');
    expect(use.input).toEqual({ city: 'Paris' });
    expect(use.id).toBeTruthy();

    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '12 degrees' }] },
    );
    const second = await client.messages.create({
      model: 'tinyllama',
      max_tokens: 100,
      messages,
      tools: [weatherTool],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(textOf(second).length).toBeGreaterThan(0);
  });

  it('streamed tool use satisfies the stream helper (input_json_delta parsed)', async () => {
    const stream = client.messages.stream({
      model: 'tinyllama',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather in Paris please' }],
      tools: [weatherTool],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((b) => b.type === 'tool_use');
    expect(use?.type === 'tool_use' && use.input).toEqual({ city: 'Paris' });
  });

  it('tool_choice none offers no tools: the answer is text', async () => {
    const m = await client.messages.create({
      model: 'tinyllama',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: { type: 'none' },
    });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.content.every((b) => b.type === 'text')).toBe(true);
  });

  it('unknown model → NotFoundError with not_found_error', async () => {
    const err = await client.messages
      .create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as APIError).type).toBe('not_found_error');
    expect((err as APIError).message).toContain('no-such-model');
  });

  it('bad request → BadRequestError naming the field', async () => {
    const err = await client.messages
      .create({
        model: 'tinyllama',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).type).toBe('invalid_request_error');
    expect((err as APIError).message).toContain('max_tokens');
  });

  it("upstream's 503 → 503 overloaded_error with Retry-After", async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const err = await client.messages
      .create({ model: 'tinyllama', max_tokens: 5, messages: [{ role: 'user', content: 'busy?' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as APIError).status).toBe(503);
    expect((err as APIError).type).toBe('overloaded_error');
    expect((err as APIError).headers?.get('retry-after')).toBeTruthy();
  });

  it('a mid-stream upstream error surfaces as an APIError while iterating', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const stream = await client.messages.create({
      model: 'tinyllama',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'break' }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of stream) seen.push(e.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).type).toBe('api_error');
    expect(seen).toContain('content_block_delta');
  });
});
