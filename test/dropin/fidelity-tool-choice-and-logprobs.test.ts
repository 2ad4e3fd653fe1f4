import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

/**
 * Issue 22 item 6: every tool_choice form reaches both upstream kinds, logprobs are carried (or
 * refused by name), and a field the gateway would drop is refused by name.
 */

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } } },
    },
  },
];
const plain = [{ role: 'user', content: 'tell me a story' }];
const weather = [{ role: 'user', content: 'what is the weather in Paris' }];

interface Choice {
  message: { content: string | null; tool_calls?: { function: { name: string; arguments: string } }[] };
  finish_reason: string;
  logprobs: { content: { token: string; logprob: number; top_logprobs: unknown[] }[] } | null;
}

describe.each(['ollama', 'openai'] as const)('OpenAI surface over a %s upstream', (kind) => {
  let s: Stack;
  let url: string;
  beforeAll(async () => {
    s = await startStack({ kind, gateway: { cacheMode: 'off' } });
    url = `${s.gw.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await s.close();
  });

  const chat = async (body: Record<string, unknown>) => {
    const r = await postJson(url, { model: 'tinyllama', ...body });
    expect(r.status, r.text).toBe(200);
    return (r.json.choices as Choice[])[0] as Choice;
  };

  it('tool_choice "required" calls a tool even when the prompt would not', async () => {
    const c = await chat({ messages: plain, tools: [tools[0]], tool_choice: 'required' });
    expect(c.finish_reason).toBe('tool_calls');
    expect(c.message.tool_calls?.[0]?.function.name).toBe('get_weather');
    expect(JSON.parse(c.message.tool_calls?.[0]?.function.arguments ?? '')).toHaveProperty('city');
  });

  it('a named tool_choice calls that tool, not the first one', async () => {
    const c = await chat({
      messages: weather,
      tools,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(c.finish_reason).toBe('tool_calls');
    expect(c.message.tool_calls?.map((t) => t.function.name)).toEqual(['get_time']);
    expect(JSON.parse(c.message.tool_calls?.[0]?.function.arguments ?? '')).toEqual({ zone: 'UTC' });
  });

  it('"required" with several tools still gives exactly one call to one of them', async () => {
    const c = await chat({ messages: plain, tools, tool_choice: 'required' });
    expect(c.finish_reason).toBe('tool_calls');
    expect(c.message.tool_calls).toHaveLength(1);
    expect(['get_weather', 'get_time']).toContain(c.message.tool_calls?.[0]?.function.name);
  });

  it('"none" gives text where "auto" gives a call', async () => {
    const auto = await chat({ messages: weather, tools, tool_choice: 'auto' });
    expect(auto.finish_reason).toBe('tool_calls');
    const none = await chat({ messages: weather, tools, tool_choice: 'none' });
    expect(none.finish_reason).toBe('stop');
    expect(none.message.tool_calls).toBeUndefined();
    expect(none.message.content).not.toBe('');
  });

  it('a tool_choice naming no offered tool is a 400 naming the field', async () => {
    const r = await postJson(url, {
      model: 'tinyllama',
      messages: plain,
      tools,
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ param: 'tool_choice.function.name' });
  });

  it('logprobs with top_logprobs: one entry per completion token, N alternatives each', async () => {
    const r = await postJson(url, {
      model: 'tinyllama',
      messages: plain,
      logprobs: true,
      top_logprobs: 3,
      max_tokens: 6,
    });
    expect(r.status, r.text).toBe(200);
    const c = (r.json.choices as Choice[])[0] as Choice;
    const usage = r.json.usage as { completion_tokens: number };
    expect(c.logprobs?.content).toHaveLength(usage.completion_tokens);
    expect(c.logprobs?.content.map((t) => t.token).join('')).toBe(c.message.content);
    for (const t of c.logprobs?.content ?? []) {
      expect(t.logprob).toBeLessThan(0);
      expect(t.top_logprobs).toHaveLength(3);
    }
  });

  it('streamed logprobs ride on the content chunks', async () => {
    const r = await postJson(url, {
      model: 'tinyllama',
      messages: plain,
      logprobs: true,
      max_tokens: 5,
      stream: true,
    });
    const events = r.text
      .split('\n\n')
      .filter((b) => b.startsWith('data: {'))
      .map(
        (b) =>
          JSON.parse(b.slice(6)) as {
            choices: { delta: { content?: string }; logprobs: Choice['logprobs'] }[];
          },
      );
    const withText = events.filter((e) => e.choices[0]?.delta.content);
    expect(withText).toHaveLength(5);
    for (const e of withText)
      expect(e.choices[0]?.logprobs?.content[0]?.token).toBe(e.choices[0]?.delta.content);
  });

  it('top_logprobs without logprobs, legacy completions logprobs and unknown fields are 400s naming them', async () => {
    const a = await postJson(url, { model: 'tinyllama', messages: plain, top_logprobs: 2 });
    expect(a.status).toBe(400);
    expect(a.json.error).toMatchObject({ param: 'top_logprobs' });
    const b = await postJson(`${s.gw.url}/v1/completions`, { model: 'tinyllama', prompt: 'x', logprobs: 2 });
    expect(b.status).toBe(400);
    expect(b.json.error).toMatchObject({ param: 'logprobs' });
    const c = await postJson(url, { model: 'tinyllama', messages: plain, frobnicate: 1 });
    expect(c.status).toBe(400);
    expect(c.json.error).toMatchObject({ param: 'frobnicate' });
    expect(String(c.json.error?.message)).toContain('frobnicate');
  });

  it('Ollama surface: logprobs on /api/chat and /api/generate, streamed and whole', async () => {
    const whole = await postJson(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      messages: plain,
      stream: false,
      logprobs: true,
      top_logprobs: 2,
      options: { num_predict: 4 },
    });
    expect(whole.status, whole.text).toBe(200);
    const lps = whole.json.logprobs as { token: string; top_logprobs: unknown[] }[];
    expect(lps).toHaveLength(4);
    expect(lps.map((l) => l.token).join('')).toBe((whole.json.message as { content: string }).content);
    expect(lps[0]?.top_logprobs).toHaveLength(2);
    const streamed = await postJson(`${s.gw.url}/api/generate`, {
      model: 'tinyllama',
      prompt: 'hello there',
      logprobs: true,
      options: { num_predict: 3 },
    });
    const lines = streamed.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { response: string; done: boolean; logprobs?: { token: string }[] });
    const tokens = lines.filter((l) => !l.done);
    expect(tokens).toHaveLength(3);
    for (const l of tokens) expect(l.logprobs?.[0]?.token).toBe(l.response);
    const bad = await postJson(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      messages: plain,
      frobnicate: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: expect.stringContaining('frobnicate') as unknown });
  });
});
