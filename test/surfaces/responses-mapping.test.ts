import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import { mapResponsesRequest } from '../../src/http/responses/map-request.js';
import {
  responseBody,
  statusFor,
  toResponsesUsage,
  type ResponseMeta,
} from '../../src/http/responses/map-response.js';
import { createResponsesStreamMapper } from '../../src/http/responses/stream.js';
import type { Collected } from '../../src/pipeline/stream.js';
import type { Chunk } from '../../src/pipeline/types.js';
import { parseSse } from '../helpers/http.js';

/** OpenAI Responses ↔ internal types, table by table (docs/protocols.md G). */

const map = (extra: Record<string, unknown>) =>
  mapResponsesRequest({ model: 'm', input: 'x', ...extra }).request;

describe('request mapping', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['string input', { input: 'hi' }, [{ role: 'user', content: 'hi' }]],
    [
      'instructions first, developer → system',
      {
        instructions: 'be brief',
        input: [
          { role: 'developer', content: 'rules' },
          { role: 'user', content: 'q' },
        ],
      },
      [
        { role: 'system', content: 'be brief' },
        { role: 'system', content: 'rules' },
        { role: 'user', content: 'q' },
      ],
    ],
    [
      'input_text + input_image parts',
      {
        input: [
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'look' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' },
            ],
          },
        ],
      },
      [{ role: 'user', content: 'look', images: ['AAAA'] }],
    ],
    [
      'assistant output_text, function calls joined, outputs named after their call, reasoning skipped',
      {
        input: [
          { role: 'user', content: 'weather?' },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          {
            type: 'message',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'checking', annotations: [] }],
          },
          { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call', call_id: 'c2', name: 'get_time', arguments: '' },
          { type: 'function_call_output', call_id: 'c1', output: '12C' },
          { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'noon' }] },
        ],
      },
      [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: 'checking',
          toolCalls: [
            { id: 'c1', name: 'get_weather', arguments: { city: 'Oslo' } },
            { id: 'c2', name: 'get_time', arguments: {} },
          ],
        },
        { role: 'tool', content: '12C', toolCallId: 'c1', toolName: 'get_weather' },
        { role: 'tool', content: 'noon', toolCallId: 'c2', toolName: 'get_time' },
      ],
    ],
    [
      'a function call with no assistant message before it',
      { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] },
      [{ role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'f', arguments: {} }] }],
    ],
  ])('%s', (_n, extra, messages) => {
    expect(map(extra).messages).toEqual(messages);
  });

  it('options, format, think, stream', () => {
    const r = map({
      max_output_tokens: 9,
      temperature: 0.2,
      top_p: 0.5,
      stream: true,
      store: true,
      reasoning: { effort: 'minimal' },
      text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true } },
    });
    expect(r).toMatchObject({
      stream: true,
      options: { maxTokens: 9, temperature: 0.2, topP: 0.5 },
      format: { type: 'object' },
      think: 'low',
    });
    expect(map({ text: { format: { type: 'json_object' } } }).format).toBe('json');
    expect(map({ text: { format: { type: 'text' } } }).format).toBeUndefined();
  });

  const tools = [
    { type: 'function', name: 'a', description: 'A', parameters: { type: 'object' }, strict: true },
    { type: 'function', name: 'b', parameters: null },
  ];
  it.each<[string, unknown, string[] | undefined]>([
    ['absent', undefined, ['a', 'b']],
    ['auto', 'auto', ['a', 'b']],
    ['required', 'required', ['a', 'b']],
    ['none', 'none', undefined],
    ['named function', { type: 'function', name: 'b' }, ['b']],
    [
      'allowed_tools',
      { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'a' }] },
      ['a'],
    ],
  ])('tool_choice %s', (_n, choice, names) => {
    const r = map({ tools, tool_choice: choice });
    expect(r.tools?.map((t) => t.name)).toEqual(names);
    if (names?.[0] === 'a')
      expect(r.tools?.[0]).toEqual({ name: 'a', description: 'A', parameters: { type: 'object' } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['missing input', { input: undefined }, 'input'],
    ['previous_response_id', { previous_response_id: 'resp_1' }, 'previous_response_id'],
    ['background', { background: true }, 'background'],
    ['conversation', { conversation: 'conv_1' }, 'conversation'],
    ['top_logprobs', { top_logprobs: 3 }, 'top_logprobs'],
    ['web_search tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['tool_choice naming no tool', { tools, tool_choice: { type: 'function', name: 'zz' } }, 'tool_choice'],
    ['item_reference item', { input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type'],
    [
      'input_file part',
      { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'input[0].content[0].type',
    ],
    [
      'remote image URL',
      { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] },
      'input[0].content[0].image_url',
    ],
    [
      'bad function_call arguments',
      { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{' }] },
      'input[0].arguments',
    ],
    [
      'function_call_output without call_id',
      { input: [{ type: 'function_call_output', output: 'x' }] },
      'input[0].call_id',
    ],
  ])('refused: %s → 400 naming %s', (_n, extra, param) => {
    let err: unknown;
    try {
      mapResponsesRequest({ model: 'm', input: 'x', ...extra });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toBe(param);
  });
});

const meta = (body: Record<string, unknown> = {}): ResponseMeta => ({
  id: 'resp_1',
  createdAt: 100,
  model: 'm',
  body: mapResponsesRequest({ model: 'm', input: 'x', ...body }).body,
});
const collected = (c: Partial<Collected>): Collected => ({
  text: '',
  thinking: '',
  toolCalls: [],
  finishReason: 'stop',
  usage: { promptTokens: 3, completionTokens: 4 },
  ...c,
});

describe('response mapping', () => {
  it.each([
    ['stop', 'completed', null],
    ['tool_calls', 'completed', null],
    ['length', 'incomplete', { reason: 'max_output_tokens' }],
  ] as const)('finish %s → status %s', (reason, status, details) => {
    expect(statusFor(reason)).toEqual({ status, incomplete_details: details });
  });

  it.each([
    [{ promptTokens: 3, completionTokens: 4 }, 3, 4],
    [{ promptTokens: Number.NaN, completionTokens: 1 }, 0, 1],
  ])('usage %o', (u, input, output) => {
    expect(toResponsesUsage(u)).toEqual({
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + output,
    });
  });

  it.each<[string, Partial<Collected>, unknown[], string]>([
    [
      'text',
      { text: 'hi' },
      [
        {
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }],
        },
      ],
      'completed',
    ],
    [
      'cut by the limit',
      { text: 'hi', finishReason: 'length' },
      [{ type: 'message', status: 'incomplete' }],
      'incomplete',
    ],
    [
      'thinking first, as a reasoning item',
      { text: 'hi', thinking: 'let me see' },
      [
        {
          type: 'reasoning',
          summary: [],
          content: [{ type: 'reasoning_text', text: 'let me see' }],
          status: 'completed',
        },
        { type: 'message', content: [{ text: 'hi' }] },
      ],
      'completed',
    ],
    [
      'function call only',
      { toolCalls: [{ id: 'call_1', name: 'f', arguments: { a: 1 } }], finishReason: 'tool_calls' },
      [{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}', status: 'completed' }],
      'completed',
    ],
  ])('body: %s', (_n, c, output, status) => {
    const r = responseBody(
      meta({ instructions: 'i', max_output_tokens: 8, metadata: { k: 'v' } }),
      collected(c),
    );
    expect(r).toMatchObject({
      id: 'resp_1',
      object: 'response',
      created_at: 100,
      status,
      error: null,
      instructions: 'i',
      max_output_tokens: 8,
      model: 'm',
      store: false,
      metadata: { k: 'v' },
      usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
    });
    expect(r.output).toMatchObject(output);
    expect(r.output).toHaveLength(output.length);
    for (const o of r.output)
      expect(o.id).toMatch({ message: /^msg_/, function_call: /^fc_/, reasoning: /^rs_/ }[o.type]);
  });
});

describe('stream mapping', () => {
  const run = (chunks: Chunk[], opts: { end?: boolean; fail?: boolean } = {}) => {
    const m = createResponsesStreamMapper(meta());
    let text = m.start() + chunks.map((c) => m.map(c)).join('');
    if (opts.end) text += m.end();
    if (opts.fail) text += m.error(new GatewayError('SUTAZAI_ERR_UPSTREAM_ERROR', 'upstream broke'));
    const ev = parseSse(text);
    ev.forEach((e, i) => expect(e.data).toMatchObject({ type: e.event, sequence_number: i }));
    return ev;
  };
  const done = (finishReason: 'stop' | 'length'): Chunk => ({
    type: 'done',
    finishReason,
    usage: { promptTokens: 1, completionTokens: 2 },
  });

  it('text then a function call, then response.completed with both items', () => {
    const ev = run([
      { type: 'delta', text: 'a' },
      { type: 'delta', text: '' },
      { type: 'delta', text: 'b' },
      { type: 'tool_calls', calls: [{ id: 'c1', name: 'f', arguments: { x: 1 } }] },
      done('stop'),
    ]);
    expect(ev.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(ev[0]?.data).toMatchObject({ response: { status: 'in_progress', output: [], usage: null } });
    expect(ev[6]?.data).toMatchObject({ output_index: 0, content_index: 0, text: 'ab' });
    expect(ev[9]?.data).toMatchObject({
      output_index: 1,
      item: { type: 'function_call', arguments: '', status: 'in_progress' },
    });
    expect(ev[11]?.data).toMatchObject({ output_index: 1, name: 'f', arguments: '{"x":1}' });
    const final = (ev[13]?.data as { response: { status: string; output: unknown[]; usage: unknown } })
      .response;
    expect(final.status).toBe('completed');
    expect(final.output).toMatchObject([
      { type: 'message', status: 'completed', content: [{ text: 'ab' }] },
      { type: 'function_call', call_id: 'c1', arguments: '{"x":1}', status: 'completed' },
    ]);
    expect(final.usage).toMatchObject({ input_tokens: 1, output_tokens: 2, total_tokens: 3 });
  });

  it('limit hit → items incomplete and response.incomplete; no done → completed at end()', () => {
    const cut = run([{ type: 'delta', text: 'a' }, done('length')]);
    expect(cut.at(-2)?.data).toMatchObject({ item: { status: 'incomplete' } });
    expect(cut.at(-1)?.event).toBe('response.incomplete');
    expect(run([{ type: 'delta', text: 'a' }], { end: true }).at(-1)?.event).toBe('response.completed');
  });

  it("reasoning, text, a call: the openai SDK's own accumulator rebuilds the final response", () => {
    const ev = run([
      { type: 'delta', text: '', thinking: 'hm' },
      { type: 'delta', text: '', thinking: 'm' },
      { type: 'delta', text: 'ok' },
      { type: 'tool_calls', calls: [{ id: 'c1', name: 'f', arguments: { x: 1 } }] },
      done('stop'),
    ]);
    expect(ev.map((e) => e.event).slice(2, 9)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ]);
    // Every event up to response.completed (which replaces the snapshot): the accumulator throws
    // on an event whose item or content part it has not seen opened.
    let snap: Response | undefined;
    for (const e of ev.slice(0, -1)) snap = accumulateResponse(e.data as ResponseStreamEvent, snap);
    const final = (ev.at(-1)?.data as { response: Response }).response;
    expect(snap?.output).toEqual(final.output);
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(snap?.output_text).toBe('ok');
  });

  it('parallel_tool_calls: false → only the first call, streamed or not', () => {
    const calls = [
      { id: 'c1', name: 'f', arguments: {} },
      { id: 'c2', name: 'g', arguments: {} },
    ];
    const m = meta({ parallel_tool_calls: false });
    const body = responseBody(m, collected({ toolCalls: calls }));
    expect(body.output.map((o) => (o.type === 'function_call' ? o.call_id : o.type))).toEqual(['c1']);
    expect(body.parallel_tool_calls).toBe(false);
    const stream = createResponsesStreamMapper(m);
    const ev = parseSse(
      stream.map({ type: 'tool_calls', calls }) + stream.map({ type: 'tool_calls', calls }),
    );
    expect(ev.filter((e) => e.event === 'response.output_item.added')).toHaveLength(1);
    expect(responseBody(meta(), collected({ toolCalls: calls })).output).toHaveLength(2);
  });

  it('failure part-way → error then response.failed', () => {
    const ev = run([{ type: 'delta', text: 'a' }], { fail: true });
    expect(ev.at(-2)).toMatchObject({
      event: 'error',
      data: { code: 'SUTAZAI_ERR_UPSTREAM_ERROR', message: 'upstream broke', param: null },
    });
    expect(ev.at(-1)?.data).toMatchObject({
      response: { status: 'failed', error: { code: 'server_error', message: 'upstream broke' } },
    });
  });
});
