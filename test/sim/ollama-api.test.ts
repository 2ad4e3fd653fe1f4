import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { call, json, ndjson, post, words } from './helpers.js';

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ models: ['llama3.2', 'qwen2.5:0.5b'], embedModels: ['nomic-embed-text'] });
});
afterAll(async () => {
  await sim.close();
});

const METRICS = [
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
];

describe('Ollama /api/chat', () => {
  it('streams NDJSON by default, one token per line, then a done line with metrics', async () => {
    const r = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello  there\nfriend' },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    const lines = ndjson(r.text);
    const last = lines.at(-1) as Record<string, unknown>;
    const tokens = lines.slice(0, -1);
    expect(tokens).toHaveLength(24);
    for (const [i, l] of tokens.entries()) {
      expect(l).toMatchObject({ model: 'llama3.2', done: false, message: { role: 'assistant' } });
      expect(typeof l.created_at).toBe('string');
      const content = (l.message as { content: string }).content;
      expect(content).toMatch(i === 0 ? /^\S+$/ : /^ \S+$/);
    }
    expect(last).toMatchObject({
      done: true,
      done_reason: 'stop',
      message: { role: 'assistant', content: '' },
    });
    for (const k of METRICS) expect(Number.isInteger(last[k]) && (last[k] as number) > 0).toBe(true);
    expect(last.prompt_eval_count).toBe(5); // "be brief" + "hello there friend"
    expect(last.eval_count).toBe(24);
    expect(last.total_duration as number).toBeGreaterThanOrEqual(last.eval_duration as number);
  });

  it('answers one object when stream is false; eval_count = words of the text', async () => {
    const r = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:latest',
      stream: false,
      messages: [{ role: 'user', content: 'one two three' }],
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const b = json(r);
    const content = (b.message as { content: string }).content;
    expect(b).toMatchObject({
      model: 'llama3.2:latest',
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 3,
    });
    expect(b.eval_count).toBe(words(content));
    for (const k of METRICS) expect(b[k]).toBeGreaterThan(0);
  });

  it('empty messages load the model (done_reason load)', async () => {
    const b = json(await post(`${sim.url}/api/chat`, { model: 'llama3.2', messages: [] }));
    expect(b).toMatchObject({ done: true, done_reason: 'load', message: { role: 'assistant', content: '' } });
  });

  it('answers a tool call in one line when tools are given and the user asks about the weather', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const lines = ndjson((await post(`${sim.url}/api/chat`, { model: 'llama3.2', messages, tools })).text);
    expect(lines).toHaveLength(2);
    const msg = lines[0]?.message as { tool_calls: { function: { name: string; arguments: unknown } }[] };
    expect(msg.tool_calls).toHaveLength(1);
    expect(msg.tool_calls[0]?.function).toMatchObject({ name: 'get_weather', arguments: { city: 'Paris' } });
    expect(lines[1]).toMatchObject({ done: true, done_reason: 'stop', eval_count: 1 });
    const full = json(
      await post(`${sim.url}/api/chat`, { model: 'llama3.2', messages, tools, stream: false }),
    );
    expect(full.message).toMatchObject({ content: '', tool_calls: [{ function: { name: 'get_weather' } }] });
    // Without the trigger word the model answers in text.
    const plain = json(
      await post(`${sim.url}/api/chat`, {
        model: 'llama3.2',
        tools,
        stream: false,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect((plain.message as { tool_calls?: unknown }).tool_calls).toBeUndefined();
  });
});

describe('Ollama /api/generate', () => {
  it('streams response fragments and ends with context and metrics', async () => {
    const r = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2',
      prompt: 'why is the sky blue',
      system: 'be nice',
    });
    const lines = ndjson(r.text);
    const last = lines.at(-1) as Record<string, unknown>;
    expect(lines.slice(0, -1).every((l) => typeof l.response === 'string' && l.done === false)).toBe(true);
    expect(last).toMatchObject({
      done: true,
      done_reason: 'stop',
      response: '',
      prompt_eval_count: 7,
      eval_count: 24,
    });
    expect(Array.isArray(last.context) && (last.context as unknown[]).every(Number.isInteger)).toBe(true);
  });

  it('non-stream: whole text, length-limited by num_predict', async () => {
    const b = json(
      await post(`${sim.url}/api/generate`, {
        model: 'llama3.2',
        prompt: 'hi',
        stream: false,
        options: { num_predict: 5 },
      }),
    );
    expect(b).toMatchObject({ done: true, done_reason: 'length', eval_count: 5 });
    expect(words(b.response as string)).toBe(5);
  });

  it('format json returns a valid JSON object; a schema shapes its keys', async () => {
    const b = json(
      await post(`${sim.url}/api/generate`, {
        model: 'llama3.2',
        prompt: 'x',
        stream: false,
        format: 'json',
      }),
    );
    expect(typeof JSON.parse(b.response as string)).toBe('object');
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } };
    const s = json(
      await post(`${sim.url}/api/chat`, {
        model: 'llama3.2',
        stream: false,
        format: schema,
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    const obj = JSON.parse((s.message as { content: string }).content) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['name', 'age']);
    expect(Number.isInteger(obj.age)).toBe(true);
    expect(s.eval_count).toBe(words((s.message as { content: string }).content));
  });

  it('empty prompt loads the model', async () => {
    const b = json(await post(`${sim.url}/api/generate`, { model: 'llama3.2', prompt: '' }));
    expect(b).toMatchObject({ done: true, done_reason: 'load', response: '' });
  });
});

describe('Ollama embeddings', () => {
  it('/api/embed: string or list input → unit vectors, dimensions honoured', async () => {
    const one = json<{ embeddings: number[][]; model: string; prompt_eval_count: number }>(
      await post(`${sim.url}/api/embed`, { model: 'nomic-embed-text', input: 'hello world' }),
    );
    expect(one.model).toBe('nomic-embed-text');
    expect(one.embeddings).toHaveLength(1);
    expect(one.embeddings[0]).toHaveLength(384);
    expect(one.prompt_eval_count).toBe(2);
    const norm = Math.hypot(...(one.embeddings[0] ?? []));
    expect(norm).toBeCloseTo(1, 5);
    const two = json<{ embeddings: number[][] }>(
      await post(`${sim.url}/api/embed`, {
        model: 'nomic-embed-text',
        input: ['hello world', 'other'],
        dimensions: 16,
      }),
    );
    expect(two.embeddings.map((e) => e.length)).toEqual([16, 16]);
    const again = json<{ embeddings: number[][] }>(
      await post(`${sim.url}/api/embed`, { model: 'nomic-embed-text', input: ['hello world'] }),
    );
    expect(again.embeddings[0]).toEqual(one.embeddings[0]);
    expect((await post(`${sim.url}/api/embed`, { model: 'nomic-embed-text', input: 3 })).status).toBe(400);
    expect(
      json<{ embeddings: unknown[] }>(
        await post(`${sim.url}/api/embed`, { model: 'nomic-embed-text', input: [] }),
      ).embeddings,
    ).toEqual([]);
  });

  it('/api/embeddings (legacy): prompt → one embedding', async () => {
    const b = json<{ embedding: number[] }>(
      await post(`${sim.url}/api/embeddings`, { model: 'nomic-embed-text', prompt: 'hi' }),
    );
    expect(b.embedding).toHaveLength(384);
    const empty = json<{ embedding: number[] }>(
      await post(`${sim.url}/api/embeddings`, { model: 'nomic-embed-text', prompt: '' }),
    );
    expect(empty.embedding).toEqual([]);
  });
});

describe('Ollama model routes', () => {
  it('GET /api/tags lists chat and embedding models with tags', async () => {
    const b = json<{
      models: { name: string; model: string; digest: string; details: { family: string } }[];
    }>(await call(`${sim.url}/api/tags`, 'GET'));
    expect(b.models.map((m) => m.name)).toEqual([
      'llama3.2:latest',
      'qwen2.5:0.5b',
      'nomic-embed-text:latest',
    ]);
    expect(b.models[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.models[0]?.details.family).toBe('llama');
  });

  it('POST /api/show accepts model or name; 404 when unknown', async () => {
    const a = json(await post(`${sim.url}/api/show`, { model: 'llama3.2' }));
    expect(a.capabilities).toEqual(['completion', 'tools']);
    const e = json(await post(`${sim.url}/api/show`, { name: 'nomic-embed-text:latest' }));
    expect(e.capabilities).toEqual(['embedding']);
    const missing = await post(`${sim.url}/api/show`, { model: 'nope' });
    expect(missing.status).toBe(404);
    expect(typeof json(missing).error).toBe('string');
  });

  it('GET /api/ps, GET /api/version, GET / ', async () => {
    const ps = json<{ models: { name: string; expires_at: string }[] }>(
      await call(`${sim.url}/api/ps`, 'GET'),
    );
    expect(ps.models.length).toBe(3);
    expect(json(await call(`${sim.url}/api/version`, 'GET')).version).toMatch(/^\d+\.\d+\.\d+/);
    const root = await call(`${sim.url}/`, 'GET');
    expect(root.text).toBe('Ollama is running');
    expect(root.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('HEAD / and HEAD /api/version answer 200 without a body', async () => {
    for (const path of ['/', '/api/version', '/api/tags']) {
      const r = await call(`${sim.url}${path}`, 'HEAD');
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      expect(Number(r.headers['content-length'])).toBeGreaterThan(0);
    }
  });
});

describe('Ollama errors', () => {
  const err = (r: { text: string }): string => json<{ error: string }>(r).error;

  it('400 bad JSON, empty body, missing model, wrong types', async () => {
    const bad = await post(`${sim.url}/api/chat`, '{not json');
    expect(bad.status).toBe(400);
    expect(err(bad)).toMatch(/invalid JSON/);
    const empty = await post(`${sim.url}/api/chat`, '');
    expect([empty.status, err(empty)]).toEqual([400, 'missing request body']);
    const noModel = await post(`${sim.url}/api/chat`, { messages: [] });
    expect([noModel.status, err(noModel)]).toEqual([400, 'model is required']);
    const wrong = await post(`${sim.url}/api/chat`, { model: 'llama3.2', messages: 'hi' });
    expect(wrong.status).toBe(400);
    expect(err(wrong)).toMatch(/messages/);
    const wrongInner = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2',
      messages: [{ role: 'user', content: 5 }],
    });
    expect(err(wrongInner)).toMatch(/messages\[0\]\.content/);
    const wrongOpt = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2',
      prompt: 'x',
      options: { num_predict: 'x' },
    });
    expect(err(wrongOpt)).toMatch(/options\.num_predict/);
    const wrongStream = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2',
      prompt: 'x',
      stream: 'no',
    });
    expect(err(wrongStream)).toMatch(/stream/);
  });

  it('404 unknown model with Ollama wording', async () => {
    const r = await post(`${sim.url}/api/chat`, {
      model: 'mystery',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.status).toBe(404);
    expect(err(r)).toBe('model "mystery" not found, try pulling it first');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('405 wrong method, 404 unknown path, 400 chat on an embedding model', async () => {
    const m = await call(`${sim.url}/api/chat`, 'GET');
    expect(m.status).toBe(405);
    expect(typeof err(m)).toBe('string');
    expect((await call(`${sim.url}/api/nothing`, 'GET')).status).toBe(404);
    const e = await post(`${sim.url}/api/chat`, {
      model: 'nomic-embed-text',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(e.status).toBe(400);
  });
});
