import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import {
  loadOnlyReason,
  mapChatRequest,
  mapEmbeddingsRequest,
  mapEmbedRequest,
  mapGenerateRequest,
  mapOptions,
} from '../../src/http/ollama/map-request.js';

function rejection(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('Ollama options → internal options', () => {
  it.each([
    [{}, {}],
    [
      {
        temperature: 0,
        top_p: 0.5,
        top_k: 40,
        seed: 1,
        num_predict: 9,
        stop: ['x'],
        repeat_penalty: 1.1,
        num_ctx: 2048,
      },
      {
        temperature: 0,
        topP: 0.5,
        topK: 40,
        seed: 1,
        maxTokens: 9,
        stop: ['x'],
        repeatPenalty: 1.1,
        numCtx: 2048,
      },
    ],
    [
      { presence_penalty: 1, frequency_penalty: 2 },
      { presencePenalty: 1, frequencyPenalty: 2 },
    ],
    [{ num_predict: -1 }, {}],
    [{ stop: 'END' }, { stop: ['END'] }],
    [{ min_p: 0.05, num_gpu: 1, mirostat: 2 }, { extra: { min_p: 0.05, num_gpu: 1, mirostat: 2 } }],
  ])('%j → %j', (options, expected) => {
    expect(mapOptions(options)).toEqual(expected);
  });
});

describe('/api/chat body → ChatRequest', () => {
  it('streams by default, only an explicit false disables it', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    expect(mapChatRequest({ model: 'm', messages }).stream).toBe(true);
    expect(mapChatRequest({ model: 'm', messages, stream: true }).stream).toBe(true);
    expect(mapChatRequest({ model: 'm', messages, stream: false }).stream).toBe(false);
  });

  it('maps messages, images, tool calls (object arguments, generated ids), tool results, format, think, keep_alive', () => {
    const r = mapChatRequest({
      model: 'm',
      stream: false,
      format: { type: 'object' },
      think: 'high',
      keep_alive: '5m',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'look', images: ['QUJD'] },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] },
        { role: 'tool', content: 'res', tool_name: 'f' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'x', function: { name: 'g', arguments: '{"b":2}' } }],
        },
        { role: 'tool', content: 'res2', tool_call_id: 'x' },
      ],
    });
    expect(r).toEqual({
      kind: 'chat',
      model: 'm',
      stream: false,
      priority: 'interactive',
      cache: { use: true },
      options: {},
      format: { type: 'object' },
      think: 'high',
      keepAlive: '5m',
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'look', images: ['QUJD'] },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_2_0', name: 'f', arguments: { a: 1 } }] },
        { role: 'tool', content: 'res', toolName: 'f' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'g', arguments: { b: 2 } }] },
        { role: 'tool', content: 'res2', toolCallId: 'x', toolName: 'g' },
      ],
    });
  });

  it.each([
    ['json', 'json'],
    ['', undefined],
  ])('format %j → %j', (format, expected) => {
    expect(mapChatRequest({ model: 'm', messages: [], format }).format).toEqual(expected);
  });

  it.each([
    [{ messages: [] }, 'model'],
    [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'm', options: { temperature: 'hot' } }, 'options.temperature'],
  ])('rejects %j naming %s', (body, param) => {
    const err = rejection(() => mapChatRequest(body));
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
  });

  it('logprobs are carried; a field the gateway cannot carry is refused by name', () => {
    expect(mapChatRequest({ model: 'm', messages: [], logprobs: true }).logprobs).toBe(0);
    expect(mapChatRequest({ model: 'm', messages: [], logprobs: true, top_logprobs: 3 }).logprobs).toBe(3);
    expect(mapChatRequest({ model: 'm', messages: [], top_logprobs: 3 }).logprobs).toBeUndefined();
    expect(() => mapChatRequest({ model: 'm', messages: [], truncate: false })).toThrow(/truncate/);
  });
});

describe('/api/generate body → GenerateRequest', () => {
  it('maps prompt, system, suffix, images, raw, options', () => {
    expect(
      mapGenerateRequest({
        model: 'm',
        prompt: 'p',
        system: 's',
        suffix: 'x',
        images: ['AA'],
        raw: true,
        options: { num_predict: 4 },
      }),
    ).toEqual({
      kind: 'generate',
      model: 'm',
      prompt: 'p',
      system: 's',
      suffix: 'x',
      images: ['AA'],
      raw: true,
      options: { maxTokens: 4 },
      stream: true,
      priority: 'interactive',
      cache: { use: true },
    });
  });

  it.each([
    [{ model: 'm', prompt: 'x' }, undefined],
    [{ model: 'm', prompt: '' }, 'load'],
    [{ model: 'm' }, 'load'],
    [{ model: 'm', keep_alive: 0 }, 'unload'],
    [{ model: 'm', prompt: '', images: ['AA'] }, undefined],
  ])('load-only detection %j → %s', (body, reason) => {
    expect(loadOnlyReason(mapGenerateRequest(body))).toBe(reason);
  });

  it('chat with no messages is load-only', () => {
    expect(loadOnlyReason(mapChatRequest({ model: 'm', messages: [] }))).toBe('load');
    expect(
      loadOnlyReason(mapChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] })),
    ).toBeUndefined();
  });
});

describe('/api/embed and /api/embeddings bodies → EmbedRequest', () => {
  it.each([
    [{ model: 'e', input: 'a' }, ['a']],
    [{ model: 'e', input: ['a', 'b'] }, ['a', 'b']],
    [{ model: 'e', input: '' }, []],
    [{ model: 'e' }, []],
  ])('embed %j → input %j', (body, input) => {
    expect(mapEmbedRequest(body).input).toEqual(input);
  });

  it('embed carries truncate, dimensions, options', () => {
    expect(
      mapEmbedRequest({ model: 'e', input: 'a', truncate: false, dimensions: 8, options: { num_ctx: 512 } }),
    ).toEqual({
      kind: 'embed',
      model: 'e',
      input: ['a'],
      truncate: false,
      dimensions: 8,
      options: { numCtx: 512 },
      priority: 'interactive',
      cache: { use: true },
    });
  });

  it('rejects non-string input', () => {
    expect(rejection(() => mapEmbedRequest({ model: 'e', input: [1] })).param).toBe('input');
  });

  it('legacy embeddings: prompt → one input; empty prompt → none', () => {
    expect(mapEmbeddingsRequest({ model: 'e', prompt: 'hi' }).input).toEqual(['hi']);
    expect(mapEmbeddingsRequest({ model: 'e', prompt: '' }).input).toEqual([]);
    expect(rejection(() => mapEmbeddingsRequest({ prompt: 'x' })).param).toBe('model');
  });
});
