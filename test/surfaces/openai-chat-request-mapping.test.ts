import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import { mapChatRequest, thinkFromEffort } from '../../src/http/openai/map-chat-request.js';
import type { ChatRequest } from '../../src/pipeline/types.js';

const user = [{ role: 'user', content: 'hi' }];
const base = { model: 'm', messages: user };

function mapped(body: Record<string, unknown>): ChatRequest {
  return mapChatRequest(body).request;
}

function rejection(body: unknown): GatewayError {
  try {
    mapChatRequest(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('OpenAI chat request → internal ChatRequest', () => {
  it('maps the minimal request with defaults', () => {
    expect(mapChatRequest(base)).toEqual({
      request: {
        kind: 'chat',
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        options: {},
        stream: false,
        priority: 'interactive',
        cache: { use: true },
      },
      includeUsage: false,
    });
  });

  it.each([
    [
      'max_completion_tokens wins over max_tokens',
      { max_tokens: 10, max_completion_tokens: 20 },
      { maxTokens: 20 },
    ],
    ['max_tokens alone', { max_tokens: 10 }, { maxTokens: 10 }],
    ['stop as a string', { stop: 'END' }, { stop: ['END'] }],
    ['stop as a list', { stop: ['a', 'b'] }, { stop: ['a', 'b'] }],
    ['empty stop list is absent', { stop: [] }, {}],
    ['explicit nulls are absent', { temperature: null, max_tokens: null, stop: null, seed: null }, {}],
    [
      'sampling fields',
      { temperature: 0.2, top_p: 0.9, seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 },
      { temperature: 0.2, topP: 0.9, seed: 7, presencePenalty: 0.5, frequencyPenalty: -0.5 },
    ],
  ])('options: %s', (_name, extra, options) => {
    expect(mapped({ ...base, ...extra }).options).toEqual(options);
  });

  it.each([
    [{ type: 'text' }, undefined],
    [{ type: 'json_object' }, 'json'],
    [{ type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }, { type: 'object' }],
    [{ type: 'json_schema', json_schema: { name: 'x' } }, 'json'],
  ])('response_format %j → format %j', (rf, format) => {
    expect(mapped({ ...base, response_format: rf }).format).toEqual(format);
  });

  it('stream + include_usage', () => {
    const r = mapChatRequest({ ...base, stream: true, stream_options: { include_usage: true } });
    expect(r.request.stream).toBe(true);
    expect(r.includeUsage).toBe(true);
    expect(
      mapChatRequest({ ...base, stream: false, stream_options: { include_usage: true } }).includeUsage,
    ).toBe(false);
  });

  it('content parts: text joined, data: URL images become base64, developer becomes system', () => {
    const r = mapped({
      model: 'm',
      messages: [
        { role: 'developer', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAB', detail: 'low' } },
            { type: 'text', text: 'this?' },
          ],
        },
      ],
    });
    expect(r.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'what is\nthis?', images: ['AAAB'] },
    ]);
  });

  it('tool definitions, assistant tool calls (JSON string → object) and tool results (name looked up)', () => {
    const r = mapped({
      model: 'm',
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'w', parameters: { type: 'object' } },
        },
      ],
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '12C' },
      ],
    });
    expect(r.tools).toEqual([{ name: 'get_weather', description: 'w', parameters: { type: 'object' } }]);
    expect(r.messages[1]).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Oslo' } }],
    });
    expect(r.messages[2]).toEqual({
      role: 'tool',
      content: '12C',
      toolCallId: 'call_1',
      toolName: 'get_weather',
    });
  });

  it.each([
    ['none', 'none'],
    ['auto', 'auto'],
    ['required', 'required'],
    [{ type: 'function', function: { name: 'f' } }, { name: 'f' }],
  ] as const)('tool_choice %j is carried as %j, with the tools', (choice, internal) => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const r = mapped({ ...base, tools, tool_choice: choice });
    expect(r.tools).toEqual([{ name: 'f' }]);
    expect(r.toolChoice).toEqual(internal);
  });

  it('empty tool-call arguments mean {}', () => {
    const r = mapped({
      model: 'm',
      messages: [
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '' } }],
        },
      ],
    });
    expect(r.messages[0]?.toolCalls).toEqual([{ id: 'c', name: 'f', arguments: {} }]);
  });

  it('bookkeeping fields are accepted; anything the gateway would drop is refused by name', () => {
    expect(mapped({ ...base, user: 'u', logit_bias: {}, metadata: { a: 'b' }, store: true }).model).toBe('m');
    expect(() => mapped({ ...base, logit_bias: { 1: 2 } })).toThrow(/logit_bias/);
    expect(() => mapped({ ...base, functions: [] })).toThrow(/functions/);
  });

  it.each([
    [undefined, undefined],
    ['none', false],
    ['minimal', 'low'],
    ['medium', 'medium'],
    ['xhigh', 'max'],
  ] as const)('reasoning_effort %s → think %s', (effort, think) => {
    expect(thinkFromEffort(effort)).toBe(think);
  });

  it.each([
    ['missing model', { messages: user }, 'model'],
    ['empty messages', { model: 'm', messages: [] }, 'messages'],
    ['bad role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['temperature out of range', { ...base, temperature: 3 }, 'temperature'],
    ['wrong type', { ...base, max_tokens: 'ten' }, 'max_tokens'],
    ['n > 1', { ...base, n: 2 }, 'n'],
    [
      'remote image URL',
      {
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      },
      'messages[0].content[0].image_url.url',
    ],
    [
      'unsupported part',
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'bad tool arguments',
      {
        model: 'm',
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
    ],
    ['custom tool', { ...base, tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
  ])('rejects %s with a 400 naming %s', (_name, body, param) => {
    const err = rejection(body);
    expect(err.code).toBe('SUTAZAI_ERR_VALIDATION');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
  });

  it('rejects a non-object body', () => {
    expect(rejection(undefined).status).toBe(400);
    expect(rejection([1, 2]).status).toBe(400);
  });
});
