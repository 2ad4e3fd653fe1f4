import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/pipeline/types.js';
import { createOllamaAdapter } from '../../src/upstreams/ollama/adapter.js';
import { createOpenAIAdapter } from '../../src/upstreams/openai/adapter.js';
import type { UpstreamAdapter } from '../../src/upstreams/types.js';
import {
  chatReq,
  collect,
  embedReq,
  generateReq,
  upstreamConfig,
  WEATHER_TOOL,
} from '../contracts/helpers.js';
import { startScripted } from './scripted-server.js';
import type { ScriptedServer } from './scripted-server.js';

const OLLAMA_DONE = { message: { role: 'assistant', content: 'ok' }, done: true, done_reason: 'stop' };
const OPENAI_DONE = {
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1 },
};

const RICH: ChatRequest = chatReq({
  model: 'm',
  options: {
    temperature: 0.2,
    topP: 0.9,
    topK: 40,
    seed: 1,
    maxTokens: 50,
    stop: ['END'],
    presencePenalty: 0.1,
    frequencyPenalty: 0.3,
    repeatPenalty: 1.1,
    numCtx: 4096,
    extra: { mirostat: 2 },
  },
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'look', images: ['iVBORw0KGgo='] },
    {
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'c1', name: 'get_weather', arguments: { city: 'Oslo' } }],
    },
    { role: 'tool', content: '{"t":3}', toolName: 'get_weather' },
  ],
  tools: [WEATHER_TOOL],
  format: { type: 'object' },
  think: 'high',
  keepAlive: '5m',
});

describe('what the adapters send upstream', () => {
  let up: ScriptedServer;
  const opened: UpstreamAdapter[] = [];
  const signal = new AbortController().signal;
  const ollama = (): UpstreamAdapter => {
    const a = createOllamaAdapter(upstreamConfig('ollama', up.url));
    opened.push(a);
    return a;
  };
  const openai = (apiKey?: string): UpstreamAdapter => {
    const a = createOpenAIAdapter({
      ...upstreamConfig('openai', `${up.url}/v1`),
      ...(apiKey ? { apiKey } : {}),
    });
    opened.push(a);
    return a;
  };

  beforeAll(async () => {
    up = await startScripted();
  });
  afterAll(() => up.close());
  afterEach(async () => {
    up.requests.length = 0;
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  it('ollama /api/chat: options renamed, absent ones omitted, tools/tool calls/images/think/keep_alive mapped', async () => {
    up.script = (_q, res) => res.end(JSON.stringify(OLLAMA_DONE));
    await collect(ollama().chat(RICH, signal));
    const sent = up.requests[0];
    expect(sent?.path).toBe('/api/chat');
    expect(sent?.body).toEqual({
      model: 'm',
      stream: false,
      options: {
        mirostat: 2,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        seed: 1,
        num_predict: 50,
        stop: ['END'],
        presence_penalty: 0.1,
        frequency_penalty: 0.3,
        repeat_penalty: 1.1,
        num_ctx: 4096,
      },
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'look', images: ['iVBORw0KGgo='] },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: { city: 'Oslo' } } }],
        },
        { role: 'tool', content: '{"t":3}', tool_name: 'get_weather' },
      ],
      tools: [{ type: 'function', function: WEATHER_TOOL }],
      format: { type: 'object' },
      think: 'high',
      keep_alive: '5m',
    });
  });

  it('ollama: no options object when no option is set; generate and embed bodies', async () => {
    up.script = (q, res) =>
      res.end(
        JSON.stringify(
          q.url === '/api/embed'
            ? { embeddings: [[0.1], [0.2]], prompt_eval_count: 2 }
            : { response: 'ok', done: true, done_reason: 'stop' },
        ),
      );
    const a = ollama();
    await collect(a.generate(generateReq({ model: 'm', options: {}, system: 's', raw: false }), signal));
    await a.embed(embedReq({ model: 'e', dimensions: 8, truncate: true }), signal);
    expect(up.requests.map((r) => r.body)).toEqual([
      { model: 'm', prompt: 'Write a line about mountains.', stream: false, system: 's', raw: false },
      { model: 'e', input: ['first text', 'second text'], truncate: true, dimensions: 8 },
    ]);
  });

  it('openai /chat/completions: OpenAI fields, string tool arguments, tool_call_id, data-URL images, bearer key', async () => {
    up.script = (_q, res) => res.end(JSON.stringify(OPENAI_DONE));
    await collect(openai('sk-test').chat(RICH, signal));
    const sent = up.requests[0];
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer sk-test');
    expect(sent?.body).toEqual({
      model: 'm',
      stream: false,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      seed: 1,
      max_tokens: 50,
      stop: ['END'],
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' } } },
      reasoning_effort: 'high',
      tools: [{ type: 'function', function: WEATHER_TOOL }],
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', content: '{"t":3}', tool_call_id: 'c1' },
      ],
    });
  });

  it('openai: streaming asks for usage; "json" format → json_object; plain generate → /completions; system → chat', async () => {
    up.script = (q, res) => {
      if (q.url === '/v1/completions') {
        res.end(JSON.stringify({ choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`,
      );
    };
    const a = openai();
    await collect(a.chat(chatReq({ model: 'm', options: {}, stream: true, format: 'json' }), signal));
    await collect(a.generate(generateReq({ model: 'm', options: { maxTokens: 5 }, suffix: '!' }), signal));
    await collect(a.generate(generateReq({ model: 'm', options: {}, system: 'sys', stream: true }), signal));
    expect(up.requests.map((r) => [r.path, r.body])).toEqual([
      [
        '/v1/chat/completions',
        {
          model: 'm',
          messages: [{ role: 'user', content: 'Tell me something about rivers.' }],
          stream: true,
          stream_options: { include_usage: true },
          response_format: { type: 'json_object' },
        },
      ],
      [
        '/v1/completions',
        { model: 'm', prompt: 'Write a line about mountains.', stream: false, max_tokens: 5, suffix: '!' },
      ],
      [
        '/v1/chat/completions',
        {
          model: 'm',
          messages: [
            { role: 'system', content: 'sys' },
            { role: 'user', content: 'Write a line about mountains.' },
          ],
          stream: true,
          stream_options: { include_usage: true },
        },
      ],
    ]);
  });

  it('openai embeddings ask for float vectors and keep the order given by index', async () => {
    up.script = (_q, res) =>
      res.end(
        JSON.stringify({
          data: [
            { index: 1, embedding: [2] },
            { index: 0, embedding: [1] },
          ],
          usage: { prompt_tokens: 4 },
        }),
      );
    const r = await openai().embed(embedReq({ model: 'e' }), signal);
    expect(up.requests[0]?.body).toEqual({
      model: 'e',
      input: ['first text', 'second text'],
      encoding_format: 'float',
    });
    expect(r).toEqual({ model: 'e', embeddings: [[1], [2]], promptTokens: 4 });
  });
});
