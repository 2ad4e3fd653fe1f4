import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  chatCompletionBody,
  createChatStreamMapper,
  finishReasonFor,
  toOpenAIUsage,
  type ChatCompletionChunk,
} from '../../src/http/openai/map-chat-response.js';
import type { Collected } from '../../src/pipeline/stream.js';
import type { Chunk } from '../../src/pipeline/types.js';

const meta = { id: 'chatcmpl-1', created: 1700000000, model: 'm' };
const usage = { promptTokens: 3, completionTokens: 2 };

function run(chunks: Chunk[], includeUsage: boolean): ChatCompletionChunk[] {
  const m = createChatStreamMapper(meta, includeUsage);
  return [m.start(), ...chunks.flatMap((c) => m.map(c)), ...m.end()];
}

describe('internal chunks → OpenAI chat.completion.chunk stream', () => {
  it('role chunk, content deltas, finish chunk; same id and created throughout; matches the SDK type', () => {
    const out = run(
      [
        { type: 'delta', text: 'Hel' },
        { type: 'delta', text: '' },
        { type: 'delta', text: 'lo' },
        { type: 'done', finishReason: 'stop', usage },
      ],
      false,
    );
    const typed: OpenAI.ChatCompletionChunk[] = out;
    expect(typed.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hel' },
      { content: 'lo' },
      {},
    ]);
    expect(out.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, 'stop']);
    expect(new Set(out.map((c) => `${c.id}/${c.created}/${c.object}`))).toEqual(
      new Set(['chatcmpl-1/1700000000/chat.completion.chunk']),
    );
    expect(out.every((c) => !('usage' in c))).toBe(true);
  });

  it('include_usage: usage:null on ordinary chunks, then a choices:[] chunk with usage', () => {
    const out = run(
      [
        { type: 'delta', text: 'x' },
        { type: 'done', finishReason: 'length', usage },
      ],
      true,
    );
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).every((c) => c.usage === null)).toBe(true);
    expect(out[2]?.choices[0]?.finish_reason).toBe('length');
    expect(out[3]).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('tool calls: indexed deltas with id, type, name and JSON-string arguments; finish is tool_calls', () => {
    const out = run(
      [
        { type: 'tool_calls', calls: [{ id: 'a', name: 'f', arguments: { x: 1 } }] },
        { type: 'tool_calls', calls: [{ id: 'b', name: 'g', arguments: {} }] },
        { type: 'done', finishReason: 'stop', usage },
      ],
      false,
    );
    expect(out[1]?.choices[0]?.delta.tool_calls).toEqual([
      { index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
    ]);
    expect(out[2]?.choices[0]?.delta.tool_calls).toEqual([
      { index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
    ]);
    expect(out[3]?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('thinking goes to the non-standard delta.reasoning', () => {
    const out = run(
      [
        { type: 'delta', text: '', thinking: 'hmm' },
        { type: 'done', finishReason: 'stop', usage },
      ],
      false,
    );
    expect(out[1]?.choices[0]?.delta).toEqual({ reasoning: 'hmm' });
  });

  it('a source that ends without done still gets a finish chunk (and usage when asked)', () => {
    const out = run([{ type: 'delta', text: 'x' }], true);
    expect(out.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(out.at(-1)?.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('nothing is emitted after done', () => {
    const m = createChatStreamMapper(meta, false);
    m.map({ type: 'done', finishReason: 'stop', usage });
    expect(m.map({ type: 'delta', text: 'late' })).toEqual([]);
    expect(m.end()).toEqual([]);
  });
});

describe('collected generation → OpenAI chat.completion', () => {
  const collected = (over: Partial<Collected>): Collected => ({
    text: '',
    thinking: '',
    toolCalls: [],
    finishReason: 'stop',
    usage,
    ...over,
  });

  it('text answer; matches the SDK type', () => {
    const body: OpenAI.ChatCompletion = chatCompletionBody(
      meta,
      collected({ text: 'hello', finishReason: 'length' }),
    );
    expect(body).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'hello', refusal: null },
          logprobs: null,
          finish_reason: 'length',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('tool calls only: content null, finish_reason tool_calls, arguments as JSON strings', () => {
    const body = chatCompletionBody(
      meta,
      collected({ toolCalls: [{ id: 'a', name: 'f', arguments: { q: 'x' } }] }),
    );
    expect(body.choices[0]?.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{"q":"x"}' } }],
    });
    expect(body.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('thinking is returned as message.reasoning', () => {
    expect(
      chatCompletionBody(meta, collected({ text: 'a', thinking: 't' })).choices[0]?.message.reasoning,
    ).toBe('t');
  });
});

describe('finish reasons and usage', () => {
  it.each([
    ['stop', false, 'stop'],
    ['stop', true, 'tool_calls'],
    ['length', true, 'length'],
    ['tool_calls', false, 'tool_calls'],
  ] as const)('%s (tool calls seen: %s) → %s', (reason, saw, expected) => {
    expect(finishReasonFor(reason, saw)).toBe(expected);
  });

  it('usage totals, and non-finite counts become 0', () => {
    expect(toOpenAIUsage({ promptTokens: 4, completionTokens: 6 })).toEqual({
      prompt_tokens: 4,
      completion_tokens: 6,
      total_tokens: 10,
    });
    expect(toOpenAIUsage({ promptTokens: NaN, completionTokens: 1 })).toEqual({
      prompt_tokens: 0,
      completion_tokens: 1,
      total_tokens: 1,
    });
  });
});
