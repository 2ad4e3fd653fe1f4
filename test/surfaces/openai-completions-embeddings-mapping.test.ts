import type OpenAI from 'openai';
import { findModel } from '../../src/pipeline/models.js';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import { mapCompletionRequest, mapEmbeddingRequest } from '../../src/http/openai/map-request.js';
import {
  completionBody,
  createCompletionStreamMapper,
  embeddingBody,
  encodeEmbeddingBase64,
  modelList,
} from '../../src/http/openai/map-response.js';
import type { ModelInfo } from '../../src/pipeline/types.js';

const meta = { id: 'cmpl-1', created: 1700000000, model: 'm' };
const usage = { promptTokens: 2, completionTokens: 3 };

function paramOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError && err.status === 400) return err.param;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('/v1/completions mapping', () => {
  it('prompt string or one-element list → GenerateRequest', () => {
    const a = mapCompletionRequest({ model: 'm', prompt: 'hi', max_tokens: 5, suffix: 's', stop: '\n' });
    expect(a.request).toEqual({
      kind: 'generate',
      model: 'm',
      prompt: 'hi',
      suffix: 's',
      options: { maxTokens: 5, stop: ['\n'] },
      stream: false,
      priority: 'interactive',
      cache: { use: true },
    });
    expect(mapCompletionRequest({ model: 'm', prompt: ['hi'] }).request.prompt).toBe('hi');
  });

  it.each([
    [{ model: 'm', prompt: ['a', 'b'] }, 'prompt'],
    [{ model: 'm', prompt: [1, 2, 3] }, 'prompt'],
    [{ model: 'm' }, 'prompt'],
    [{ model: 'm', prompt: 'x', n: 3 }, 'n'],
  ])('rejects %j (param %s)', (body, param) => {
    expect(paramOf(() => mapCompletionRequest(body))).toBe(param);
  });

  it('non-stream body matches the SDK type', () => {
    const body: OpenAI.Completion = completionBody(meta, {
      text: 'yo',
      thinking: '',
      toolCalls: [],
      finishReason: 'length',
      usage,
    });
    expect(body.choices).toEqual([{ text: 'yo', index: 0, logprobs: null, finish_reason: 'length' }]);
    expect(body.object).toBe('text_completion');
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  });

  it('stream: text chunks, a finish chunk, a usage chunk only with include_usage', () => {
    const m = createCompletionStreamMapper(meta, true);
    const out = [
      ...m.map({ type: 'delta', text: 'a' }),
      ...m.map({ type: 'done', finishReason: 'stop', usage }),
      ...m.end(),
    ];
    expect(out.map((c) => c.choices[0]?.text ?? null)).toEqual(['a', '', null]);
    expect(out.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, 'stop', null]);
    expect(out[2]).toMatchObject({ choices: [], usage: { total_tokens: 5 } });
    const plain = createCompletionStreamMapper(meta, false);
    expect(plain.map({ type: 'done', finishReason: 'tool_calls', usage })).toEqual([
      {
        ...meta,
        object: 'text_completion',
        choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }],
      },
    ]);
  });
});

describe('/v1/embeddings mapping', () => {
  it.each([
    [{ model: 'e', input: 'x' }, ['x'], 'float'],
    [{ model: 'e', input: ['x', 'y'], encoding_format: 'base64' }, ['x', 'y'], 'base64'],
  ] as const)('%j', (body, input, encoding) => {
    const r = mapEmbeddingRequest(body);
    expect(r.request.input).toEqual(input);
    expect(r.encoding).toBe(encoding);
  });

  it.each([
    [[1, 2], [[1, 2]]],
    [
      [[1], [2, 3]],
      [[1], [2, 3]],
    ],
  ] as const)('token input %j → tokens %j', (input, tokens) => {
    const r = mapEmbeddingRequest({ model: 'e', input });
    expect(r.request.tokens).toEqual(tokens);
    expect(r.request.input).toEqual([]);
  });

  it.each([
    [{ model: 'e', input: [1.5, 2] }, 'input'],
    [{ model: 'e', input: [[]] }, 'input'],
    [{ model: 'e', input: [] }, 'input'],
    [{ model: 'e', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    [{ input: 'x' }, 'model'],
  ])('rejects %j (param %s)', (body, param) => {
    expect(paramOf(() => mapEmbeddingRequest(body))).toBe(param);
  });

  it('base64 is little-endian float32 and decodes to the float values', () => {
    const v = [0.5, -1.25, 3.1415927, 0];
    const b64 = encodeEmbeddingBase64(v);
    const buf = Buffer.from(b64, 'base64');
    expect(buf.length).toBe(16);
    expect(buf.readFloatLE(4)).toBe(-1.25);
    const decoded = Array.from({ length: 4 }, (_, i) => buf.readFloatLE(i * 4));
    expect(decoded).toEqual(v.map((x) => Math.fround(x)));
  });

  it('body: list of embedding objects with index, usage prompt == total', () => {
    const result = { model: 'e', embeddings: [[1], [2]], promptTokens: 4 };
    const body: OpenAI.CreateEmbeddingResponse = embeddingBody(
      result,
      'float',
      'e',
    ) as OpenAI.CreateEmbeddingResponse;
    expect(body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [1] },
        { object: 'embedding', index: 1, embedding: [2] },
      ],
      model: 'e',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    expect(embeddingBody(result, 'base64', 'e').data[0]?.embedding).toBe(encodeEmbeddingBase64([1]));
  });
});

describe('/v1/models mapping', () => {
  const models: ModelInfo[] = [
    { name: 'llama3:latest', upstream: 'a', modifiedAt: '2024-01-01T00:00:00Z' },
    { name: 'user/tiny:q4', upstream: 'a' },
    { name: 'llama3:latest', upstream: 'b' },
  ];

  it('one entry per name; owned_by is the namespace; created from modified_at', () => {
    const list: OpenAI.Model[] = modelList(models).data;
    expect(list).toEqual([
      { id: 'llama3:latest', object: 'model', created: 1704067200, owned_by: 'library' },
      { id: 'user/tiny:q4', object: 'model', created: 0, owned_by: 'user' },
    ]);
  });

  it('a bare name finds name:latest', () => {
    expect(findModel(models, 'llama3')?.name).toBe('llama3:latest');
    expect(findModel(models, 'user/tiny:q4')?.name).toBe('user/tiny:q4');
    expect(findModel(models, 'nope')).toBeUndefined();
  });
});
