import type { ChatResponse, GenerateResponse, ListResponse, ShowResponse } from 'ollama';
import { describe, expect, it } from 'vitest';
import {
  chatBody,
  chatDoneLine,
  chatLine,
  doneReason,
  embedBody,
  embeddingsBody,
  generateBody,
  generateDoneLine,
  generateLine,
  loadBody,
  metrics,
  showBody,
  tagsBody,
} from '../../src/http/ollama/map-response.js';
import type { Collected } from '../../src/pipeline/stream.js';

const lm = { model: 'm', createdAt: '2024-01-01T00:00:00.000Z' };
const measured = { totalNs: 1000, promptEvalNs: 300, evalNs: 700 };
const usage = { promptTokens: 5, completionTokens: 7 };

describe('metric fields', () => {
  it('measured durations when the upstream reported none; always all six fields', () => {
    expect(metrics(usage, undefined, measured)).toEqual({
      total_duration: 1000,
      load_duration: 0,
      prompt_eval_count: 5,
      prompt_eval_duration: 300,
      eval_count: 7,
      eval_duration: 700,
    });
  });

  it('upstream timings win field by field', () => {
    expect(metrics(usage, { totalDurationNs: 9, evalDurationNs: 4 }, measured)).toMatchObject({
      total_duration: 9,
      prompt_eval_duration: 300,
      eval_duration: 4,
    });
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'stop'],
  ] as const)('finish %s → done_reason %s', (reason, expected) => {
    expect(doneReason(reason)).toBe(expected);
  });
});

describe('chat lines and bodies', () => {
  it('delta line; empty delta gives no line; thinking is carried', () => {
    const line: ChatResponse | undefined = chatLine(lm, { type: 'delta', text: 'hi' }, 0) as
      ChatResponse | undefined;
    expect(line).toEqual({
      model: 'm',
      created_at: lm.createdAt,
      message: { role: 'assistant', content: 'hi' },
      done: false,
    });
    expect(chatLine(lm, { type: 'delta', text: '' }, 0)).toBeUndefined();
    expect(chatLine(lm, { type: 'delta', text: '', thinking: 't' }, 0)?.message).toEqual({
      role: 'assistant',
      content: '',
      thinking: 't',
    });
  });

  it('tool-call line: arguments stay objects, indexes continue from toolIndex', () => {
    const line = chatLine(
      lm,
      { type: 'tool_calls', calls: [{ id: 'a', name: 'f', arguments: { x: 1 } }] },
      2,
    );
    expect(line?.message.tool_calls).toEqual([
      { id: 'a', function: { index: 2, name: 'f', arguments: { x: 1 } } },
    ]);
  });

  it('done line carries done_reason and metrics', () => {
    expect(chatDoneLine(lm, { type: 'done', finishReason: 'length', usage }, measured)).toEqual({
      model: 'm',
      created_at: lm.createdAt,
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'length',
      total_duration: 1000,
      load_duration: 0,
      prompt_eval_count: 5,
      prompt_eval_duration: 300,
      eval_count: 7,
      eval_duration: 700,
    });
  });

  it('non-stream body: whole text, tool calls, thinking', () => {
    const c: Collected = {
      text: 'ok',
      thinking: 'why',
      toolCalls: [{ id: 'a', name: 'f', arguments: {} }],
      finishReason: 'tool_calls',
      usage,
    };
    const body: ChatResponse = chatBody(lm, c, measured) as unknown as ChatResponse;
    expect(body.message).toEqual({
      role: 'assistant',
      content: 'ok',
      thinking: 'why',
      tool_calls: [{ id: 'a', function: { index: 0, name: 'f', arguments: {} } }],
    });
    expect(body.done).toBe(true);
    expect(body.done_reason).toBe('stop');
  });
});

describe('generate lines and bodies', () => {
  it('delta → response line; tool calls produce no line', () => {
    expect(generateLine(lm, { type: 'delta', text: 'x' })).toEqual({
      model: 'm',
      created_at: lm.createdAt,
      response: 'x',
      done: false,
    });
    expect(
      generateLine(lm, { type: 'tool_calls', calls: [{ id: 'a', name: 'f', arguments: {} }] }),
    ).toBeUndefined();
  });

  it('done line and non-stream body', () => {
    expect(generateDoneLine(lm, { type: 'done', finishReason: 'stop', usage }, measured)).toMatchObject({
      response: '',
      done: true,
      done_reason: 'stop',
      eval_count: 7,
    });
    const body: GenerateResponse = generateBody(
      lm,
      { text: 'all', thinking: '', toolCalls: [], finishReason: 'stop', usage },
      measured,
    ) as unknown as GenerateResponse;
    expect(body.response).toBe('all');
    expect(body.prompt_eval_count).toBe(5);
  });

  it('load / unload answers', () => {
    expect(loadBody(lm, 'generate', 'load')).toEqual({
      model: 'm',
      created_at: lm.createdAt,
      response: '',
      done: true,
      done_reason: 'load',
    });
    expect(loadBody(lm, 'chat', 'unload')).toMatchObject({
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'unload',
    });
  });
});

describe('embeddings, tags, show', () => {
  it('embed and legacy embeddings bodies', () => {
    const r = { model: 'e', embeddings: [[0.1, 0.2]], promptTokens: 3 };
    expect(embedBody('e', r, 50)).toEqual({
      model: 'e',
      embeddings: [[0.1, 0.2]],
      total_duration: 50,
      load_duration: 0,
      prompt_eval_count: 3,
    });
    expect(embeddingsBody(r)).toEqual({ embedding: [0.1, 0.2] });
    expect(embeddingsBody({ ...r, embeddings: [] })).toEqual({ embedding: [] });
  });

  it('tags: merged, one per name, details filled with defaults', () => {
    const list: ListResponse = tagsBody([
      {
        name: 'a:latest',
        upstream: 'u1',
        size: 10,
        digest: 'd',
        modifiedAt: '2024-01-01T00:00:00Z',
        details: { family: 'llama' },
      },
      { name: 'b:latest', upstream: 'u2', capabilities: ['embedding'] },
      { name: 'a:latest', upstream: 'u2' },
    ]) as unknown as ListResponse;
    expect(list.models.map((m) => m.name)).toEqual(['a:latest', 'b:latest']);
    expect(list.models[0]).toMatchObject({
      model: 'a:latest',
      size: 10,
      digest: 'd',
      details: { family: 'llama', format: '' },
    });
    expect(list.models[1]).toMatchObject({
      size: 0,
      digest: '',
      modified_at: '1970-01-01T00:00:00Z',
      capabilities: ['embedding'],
    });
  });

  it('show: synthesized from the listing', () => {
    const show: ShowResponse = showBody({
      name: 'a',
      upstream: 'u',
      details: { family: 'x' },
    }) as unknown as ShowResponse;
    expect(show).toMatchObject({
      modelfile: '',
      template: '',
      capabilities: ['completion'],
      details: { family: 'x' },
    });
  });
});
