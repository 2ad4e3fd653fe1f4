import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import { anthropicErrorBody, anthropicErrorType } from '../../src/http/anthropic/errors.js';
import { mapMessagesRequest } from '../../src/http/anthropic/map-request.js';
import { messageBody, stopReason, toAnthropicUsage } from '../../src/http/anthropic/map-response.js';
import { createAnthropicStreamMapper } from '../../src/http/anthropic/stream.js';
import { parseSse } from '../helpers/http.js';
import type { Collected } from '../../src/pipeline/stream.js';
import type { Chunk, FinishReason } from '../../src/pipeline/types.js';

/** Anthropic Messages ↔ internal types, table by table (docs/protocols.md F). */

const base = { model: 'm', max_tokens: 10 };
const map = (extra: Record<string, unknown>) => mapMessagesRequest({ ...base, ...extra }).request;

describe('request mapping', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['string content', { messages: [{ role: 'user', content: 'hi' }] }, [{ role: 'user', content: 'hi' }]],
    [
      'system string first',
      { system: 'be brief', messages: [{ role: 'user', content: 'hi' }] },
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    ],
    [
      'system blocks joined',
      {
        system: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } },
        ],
        messages: [{ role: 'user', content: 'x' }],
      },
      [
        { role: 'system', content: 'a\nb' },
        { role: 'user', content: 'x' },
      ],
    ],
    [
      'text + base64 image blocks',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            ],
          },
        ],
      },
      [{ role: 'user', content: 'look', images: ['AAAA'] }],
    ],
    [
      'tool_use then tool_result (name from the call, results before text, is_error marked)',
      {
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 's' },
              { type: 'text', text: 'checking' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
              { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '12C' }] },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: 'boom', is_error: true },
              { type: 'text', text: 'thanks' },
            ],
          },
        ],
      },
      [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: 'checking',
          thinking: 'hmm',
          toolCalls: [
            { id: 'toolu_1', name: 'get_weather', arguments: { city: 'Oslo' } },
            { id: 'toolu_2', name: 'get_time', arguments: {} },
          ],
        },
        { role: 'tool', content: '12C', toolCallId: 'toolu_1', toolName: 'get_weather' },
        { role: 'tool', content: 'Error: boom', toolCallId: 'toolu_2', toolName: 'get_time' },
        { role: 'user', content: 'thanks' },
      ],
    ],
    [
      'a user turn of only tool results adds no empty user message',
      {
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't' }] },
        ],
      },
      [
        { role: 'assistant', content: '', toolCalls: [{ id: 't', name: 'f', arguments: {} }] },
        { role: 'tool', content: '', toolCallId: 't', toolName: 'f' },
      ],
    ],
  ])('%s', (_name, extra, messages) => {
    expect(map(extra).messages).toEqual(messages);
  });

  it('options, stream, format and think', () => {
    const m = mapMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u1' },
      context_management: { edits: [] },
      thinking: { type: 'enabled', budget_tokens: 1024 },
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
    });
    expect(m.request).toMatchObject({
      kind: 'chat',
      model: 'm',
      stream: true,
      options: { temperature: 0.5, topP: 0.9, topK: 40, maxTokens: 10, stop: ['END'] },
      format: { type: 'object' },
      think: true,
    });
    expect(m.stopSequences).toEqual(['END']);
    expect(m.thinking).toBe(true);
    expect(map({ messages: [{ role: 'user', content: 'x' }], thinking: { type: 'disabled' } }).think).toBe(
      false,
    );
  });

  const tools = [
    { name: 'a', description: 'A', input_schema: { type: 'object' } },
    { name: 'b', input_schema: { type: 'object' } },
  ];
  it.each<[string, unknown, string[] | undefined]>([
    ['no tool_choice', undefined, ['a', 'b']],
    ['auto', { type: 'auto' }, ['a', 'b']],
    ['any', { type: 'any', disable_parallel_tool_use: true }, ['a', 'b']],
    ['none', { type: 'none' }, undefined],
    ['named tool', { type: 'tool', name: 'b' }, ['b']],
  ])('tool_choice %s', (_n, choice, names) => {
    const r = map({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: choice });
    expect(r.tools?.map((t) => t.name)).toEqual(names);
    if (names?.[0] === 'a')
      expect(r.tools?.[0]).toEqual({ name: 'a', description: 'A', parameters: { type: 'object' } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'missing max_tokens',
      { max_tokens: undefined, messages: [{ role: 'user', content: 'x' }] },
      'max_tokens',
    ],
    ['empty messages', { messages: [] }, 'messages'],
    ['bad role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['temperature > 1', { temperature: 1.5, messages: [{ role: 'user', content: 'x' }] }, 'temperature'],
    [
      'url image source',
      {
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://x' } }] }],
      },
      'messages[0].content[0].source.type',
    ],
    [
      'document block',
      { messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'tool_use in a user turn',
      { messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'x', name: 'f', input: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'tool_use without input',
      { messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 'f' }] }] },
      'messages[0].content[0].input',
    ],
    [
      'server tool',
      {
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search', input_schema: {} }],
      },
      'tools[0].type',
    ],
    [
      'tool_choice naming an absent tool',
      { messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'tool', name: 'zz' } },
      'tool_choice.name',
    ],
    ['mcp_servers', { messages: [{ role: 'user', content: 'x' }], mcp_servers: [{}] }, 'mcp_servers'],
  ])('refused: %s → 400 naming %s', (_n, extra, param) => {
    let err: unknown;
    try {
      mapMessagesRequest({ ...base, ...extra });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toBe(param);
  });
});

describe('response mapping', () => {
  it.each<[FinishReason, boolean, string | undefined, string]>([
    ['stop', false, undefined, 'end_turn'],
    ['length', false, undefined, 'max_tokens'],
    ['length', true, undefined, 'max_tokens'],
    ['stop', true, undefined, 'tool_use'],
    ['tool_calls', false, undefined, 'tool_use'],
    ['stop', false, 'END', 'stop_sequence'],
  ])('stop reason: %s (tools %s, matched %s) → %s', (reason, tools, matched, out) => {
    expect(stopReason(reason, tools, matched)).toBe(out);
  });

  it.each([
    [{ promptTokens: 3, completionTokens: 4 }, 3, 4],
    [{ promptTokens: Number.NaN, completionTokens: 2 }, 0, 2],
  ])('usage %o', (u, input, output) => {
    expect(toAnthropicUsage(u)).toEqual({
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  const collected = (c: Partial<Collected>): Collected => ({
    text: '',
    thinking: '',
    toolCalls: [],
    finishReason: 'stop',
    usage: { promptTokens: 1, completionTokens: 2 },
    ...c,
  });
  it.each<[string, Partial<Collected>, boolean, unknown[], string]>([
    ['text', { text: 'hi' }, false, [{ type: 'text', text: 'hi' }], 'end_turn'],
    ['empty answer keeps one text block', {}, false, [{ type: 'text', text: '' }], 'end_turn'],
    [
      'tool call only',
      { toolCalls: [{ id: 'c1', name: 'f', arguments: { a: 1 } }] },
      false,
      [{ type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } }],
      'tool_use',
    ],
    [
      'thinking shown only when enabled',
      { text: 'x', thinking: 'th', finishReason: 'length' },
      true,
      [
        { type: 'thinking', thinking: 'th', signature: '' },
        { type: 'text', text: 'x' },
      ],
      'max_tokens',
    ],
    [
      'thinking hidden when not enabled',
      { text: 'x', thinking: 'th' },
      false,
      [{ type: 'text', text: 'x' }],
      'end_turn',
    ],
  ])('message body: %s', (_n, c, thinking, content, reason) => {
    const body = messageBody({ id: 'msg_1', model: 'm', thinking }, collected(c));
    expect(body).toEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content,
      stop_reason: reason,
      stop_sequence: null,
      usage: {
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [405, 'invalid_request_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
  ])('error type for %i → %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });

  it('error envelope', () => {
    const e = new GatewayError('SUTAZAI_ERR_MODEL_NOT_FOUND', "model 'x' not found");
    expect(anthropicErrorBody(e)).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: "model 'x' not found" },
    });
  });
});

describe('stream mapping', () => {
  const run = (chunks: Chunk[], thinking = false, end = false) => {
    const m = createAnthropicStreamMapper({ id: 'msg_1', model: 'm', thinking });
    const text = m.start() + chunks.map((c) => m.map(c)).join('') + (end ? m.end() : '');
    return parseSse(text).map((e) => {
      expect((e.data as { type: string }).type).toBe(e.event);
      return e;
    });
  };
  const done = (finishReason: FinishReason): Chunk => ({
    type: 'done',
    finishReason,
    usage: { promptTokens: 3, completionTokens: 2 },
  });

  it('text: message_start, block start, ping, deltas, block stop, message_delta, message_stop', () => {
    const ev = run([
      { type: 'delta', text: 'a' },
      { type: 'delta', text: '' },
      { type: 'delta', text: 'b' },
      done('length'),
    ]);
    expect(ev.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev[0]?.data).toMatchObject({
      message: { id: 'msg_1', content: [], stop_reason: null, usage: { output_tokens: 0 } },
    });
    expect(ev[1]?.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    expect(ev[4]?.data).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'b' },
    });
    expect(ev[6]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { input_tokens: 3, output_tokens: 2 },
    });
  });

  it('thinking block, then text, then a tool_use block with input_json_delta', () => {
    const ev = run(
      [
        { type: 'delta', text: '', thinking: 'hm' },
        { type: 'delta', text: 'ok' },
        { type: 'tool_calls', calls: [{ id: 'c1', name: 'f', arguments: { x: 1 } }] },
        done('stop'),
      ],
      true,
    );
    expect(ev.map((e) => `${e.event}:${(e.data as { index?: number }).index ?? ''}`)).toEqual([
      'message_start:',
      'content_block_start:0',
      'ping:',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta:',
      'message_stop:',
    ]);
    expect(ev[5]?.data).toMatchObject({ content_block: { type: 'text' } });
    expect(ev[8]?.data).toEqual({
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'c1', name: 'f', input: {} },
    });
    expect(ev[9]?.data).toEqual({
      type: 'content_block_delta',
      index: 2,
      delta: { type: 'input_json_delta', partial_json: '{"x":1}' },
    });
    expect(ev[11]?.data).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it("thinking, text and tool_use: the SDK's own MessageStream assembles the final message", async () => {
    const ev = run(
      [
        { type: 'delta', text: '', thinking: 'hm' },
        { type: 'delta', text: '', thinking: 'm' },
        { type: 'delta', text: 'ok' },
        { type: 'tool_calls', calls: [{ id: 'c1', name: 'f', arguments: { x: [1, 2] } }] },
        done('stop'),
      ],
      true,
    );
    // MessageStream.fromReadableStream reads one event JSON per line (pings are not sent there).
    const lines = ev
      .filter((e) => e.event !== 'ping')
      .map((e) => `${JSON.stringify(e.data)}\n`)
      .join('');
    const stream = MessageStream.fromReadableStream(new Response(lines).body!);
    const final = await stream.finalMessage();
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: '' },
      { type: 'text', text: 'ok' },
      { type: 'tool_use', id: 'c1', name: 'f', input: { x: [1, 2] } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 3, output_tokens: 2 });
  });

  it('disable_parallel_tool_use: only the first tool_use block, streamed or not', () => {
    const calls = [
      { id: 'c1', name: 'f', arguments: {} },
      { id: 'c2', name: 'g', arguments: {} },
    ];
    const m = mapMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'f', input_schema: {} }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(m.singleToolUse).toBe(true);
    expect(mapMessagesRequest({ ...base, messages: [{ role: 'user', content: 'x' }] }).singleToolUse).toBe(
      false,
    );
    const one = createAnthropicStreamMapper({
      id: 'msg_1',
      model: 'm',
      thinking: false,
      singleToolUse: true,
    });
    const events = parseSse(one.map({ type: 'tool_calls', calls }));
    expect(events.filter((e) => e.event === 'content_block_start')).toHaveLength(1);
    const body = messageBody(
      { id: 'msg_1', model: 'm', thinking: false, singleToolUse: true },
      {
        text: '',
        thinking: '',
        toolCalls: calls,
        finishReason: 'stop',
        usage: { promptTokens: 1, completionTokens: 1 },
      },
    );
    expect(body.content.map((b) => (b.type === 'tool_use' ? b.id : b.type))).toEqual(['c1']);
  });

  it('no content at all still pings and ends; a source without done ends as end_turn', () => {
    expect(run([done('stop')]).map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'message_delta',
      'message_stop',
    ]);
    const ev = run([{ type: 'delta', text: 'a' }], false, true);
    expect(ev.map((e) => e.event).slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(ev.at(-2)?.data).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });
});
