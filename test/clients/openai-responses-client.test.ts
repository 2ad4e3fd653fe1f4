import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

/**
 * The unmodified official `openai` package's Responses API (`client.responses`) against a running
 * gateway, in front of the simulator in Ollama-native and OpenAI-compatible modes.
 */

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe.each(['ollama', 'openai'] as const)('openai responses → gateway → %s upstream', (kind) => {
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

  it('create with a string input: output_text, incomplete at max_output_tokens, usage', async () => {
    const r = await client.responses.create({
      model: 'tinyllama',
      input: 'Say something',
      max_output_tokens: 5,
    });
    expect(r.id).toMatch(/^resp_/);
    expect(r.object).toBe('response');
    expect(r.status).toBe('incomplete');
    expect(r.incomplete_details?.reason).toBe('max_output_tokens');
    expect(r.output_text.length).toBeGreaterThan(0);
    expect(r.output[0]?.type).toBe('message');
    expect(r.usage?.input_tokens).toBe(2);
    expect(r.usage?.output_tokens).toBe(5);
    expect(r.usage?.total_tokens).toBe(7);
    expect(r.max_output_tokens).toBe(5);
  });

  it('instructions + a message list with input_text and input_image: completed', async () => {
    const r = await client.responses.create({
      model: 'tinyllama',
      instructions: 'Be brief.',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
          ],
        },
      ],
    });
    expect(r.status).toBe('completed');
    expect(r.instructions).toBe('Be brief.');
    expect(r.usage?.input_tokens).toBe(5);
    const msg = r.output[0];
    expect(msg?.type === 'message' && msg.content[0]?.type).toBe('output_text');
  });

  it('streaming: typed events with rising sequence numbers, same text and usage as non-streamed', async () => {
    const params = { model: 'tinyllama', input: 'Tell a story', max_output_tokens: 6 };
    const full = await client.responses.create(params);
    const stream = await client.responses.create({ ...params, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    const text = events.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
    expect(text).toBe(full.output_text);
    const last = events.at(-1);
    expect(last?.type === 'response.incomplete' && last.response.usage).toEqual(full.usage);
  });

  it('responses.stream helper assembles the final response', async () => {
    const stream = client.responses.stream({ model: 'tinyllama', input: 'Hi there friend' });
    let seen = '';
    stream.on('response.output_text.delta', (e) => (seen += e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe(seen);
    expect(final.usage?.input_tokens).toBe(3);
  });

  it('function tool: a function_call item, then its output sent back gives text', async () => {
    const first = await client.responses.create({
      model: 'tinyllama',
      input: 'What is the weather in Oslo?',
      tools: [weatherTool],
    });
    const call = first.output.find((o) => o.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('expected a function_call item');
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    expect(call.call_id).toBeTruthy();
    expect(first.status).toBe('completed');

    const second = await client.responses.create({
      model: 'tinyllama',
      input: [
        { role: 'user', content: 'What is the weather in Oslo?' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":12}' },
      ],
      tools: [weatherTool],
    });
    expect(second.output.every((o) => o.type === 'message')).toBe(true);
    expect(second.output_text.length).toBeGreaterThan(0);
  });

  it('streamed function call: arguments events, and the helper assembles the call', async () => {
    const stream = client.responses.stream({
      model: 'tinyllama',
      input: 'weather in Paris please',
      tools: [weatherTool],
    });
    const types: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    const final = await stream.finalResponse();
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types).toContain('response.function_call_arguments.done');
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call?.type === 'function_call' && JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
  });

  it('unknown model → NotFoundError', async () => {
    const err = await client.responses
      .create({ model: 'no-such-model', input: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });

  it('previous_response_id → BadRequestError naming it', async () => {
    const err = await client.responses
      .create({ model: 'tinyllama', input: 'x', previous_response_id: 'resp_123' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('previous_response_id');
  });

  it('a mid-stream upstream failure ends with error and response.failed events', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    const stream = await client.responses.create({
      model: 'tinyllama',
      input: 'break',
      max_output_tokens: 20,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(events.some((e) => e.type === 'response.output_text.delta')).toBe(true);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['error', 'response.failed']);
    const failed = events.at(-1);
    expect(failed?.type === 'response.failed' && failed.response.status).toBe('failed');
    expect(failed?.type === 'response.failed' && failed.response.error?.code).toBe('server_error');
  });
});
