import { createServer } from 'node:net';
import { Ollama, type Tool } from 'ollama';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, startTestGateway, type Stack, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/http.js';

/**
 * The unmodified official `ollama` package against a running gateway, in front of the simulator
 * speaking each upstream protocol: an Ollama-shaped request served by an Ollama upstream, and by an
 * OpenAI-compatible one.
 */

/** ollama-js throws `ResponseError {error, status_code}` (not exported by the package) on HTTP errors. */
interface ResponseErrorLike extends Error {
  status_code: number;
  error: string;
}

async function failure(p: Promise<unknown>): Promise<ResponseErrorLike> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected the call to fail');
  return err as ResponseErrorLike;
}

const weatherTool: Tool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.each(['ollama', 'openai'] as const)('ollama npm client → gateway → %s upstream', (kind) => {
  let s: Stack;
  let ollama: Ollama;
  beforeAll(async () => {
    s = await startStack({ kind, sim: { tps: 0 }, gateway: { cacheMode: 'off' } });
    ollama = new Ollama({ host: s.gw.url });
  });
  afterAll(async () => {
    await s.close();
  });
  beforeEach(() => {
    s.sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
  });

  it('chat: message, done_reason and metric fields', async () => {
    const r = await ollama.chat({
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'hello' }],
      options: { num_predict: 5, seed: 1 },
    });
    expect(r.done).toBe(true);
    expect(r.done_reason).toBe('length');
    expect(r.message.role).toBe('assistant');
    expect(r.message.content.length).toBeGreaterThan(0);
    expect(r.eval_count).toBe(5);
    expect(r.prompt_eval_count).toBeGreaterThan(0);
    expect(r.total_duration).toBeGreaterThan(0);
    expect(typeof r.eval_duration).toBe('number');
  });

  it('streaming chat: fragments then a done line; same text as non-stream', async () => {
    const req = {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'tell a story' }],
      options: { seed: 4 },
    };
    const full = await ollama.chat(req);
    let text = '';
    let last: Awaited<ReturnType<typeof ollama.chat>> | undefined;
    let parts = 0;
    for await (const part of await ollama.chat({ ...req, stream: true })) {
      text += part.message.content;
      last = part;
      parts++;
    }
    expect(parts).toBeGreaterThan(2);
    expect(text).toBe(full.message.content);
    expect(last?.done).toBe(true);
    expect(last?.done_reason).toBe(full.done_reason);
    expect(last?.eval_count).toBe(full.eval_count);
  });

  it('tool calls come back with object arguments and can be answered', async () => {
    const messages = [{ role: 'user', content: 'what is the weather in Oslo?' }];
    const r = await ollama.chat({ model: 'tinyllama', messages, tools: [weatherTool] });
    const call = r.message.tool_calls?.[0];
    expect(call?.function.name).toBe('get_weather');
    expect(typeof call?.function.arguments).toBe('object');
    const next = await ollama.chat({
      model: 'tinyllama',
      tools: [weatherTool],
      messages: [
        ...messages,
        r.message,
        { role: 'tool', content: '{"temp_c":12}', tool_name: 'get_weather' },
      ],
    });
    expect(next.message.content.length).toBeGreaterThan(0);
    expect(next.message.tool_calls ?? []).toHaveLength(0);
  });

  it('generate, plain and streamed', async () => {
    const g = await ollama.generate({
      model: 'tinyllama',
      prompt: 'Once upon',
      options: { num_predict: 4, seed: 5 },
    });
    expect(g.done_reason).toBe('length');
    expect(g.eval_count).toBe(4);
    let text = '';
    for await (const part of await ollama.generate({
      model: 'tinyllama',
      prompt: 'Once upon',
      options: { num_predict: 4, seed: 5 },
      stream: true,
    })) {
      text += part.response;
    }
    expect(text).toBe(g.response);
  });

  it('embed and legacy embeddings', async () => {
    const e = await ollama.embed({ model: 'nomic-embed-text', input: ['a cat', 'a dog'] });
    expect(e.embeddings).toHaveLength(2);
    expect(e.embeddings[0]!.length).toBeGreaterThan(8);
    const legacy = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'a cat' });
    expect(legacy.embedding).toEqual(e.embeddings[0]);
  });

  it('list (tags), show, ps, version', async () => {
    const list = await ollama.list();
    expect(list.models.map((m) => m.name)).toEqual(
      expect.arrayContaining(['tinyllama:latest', 'llama3.2:latest', 'nomic-embed-text:latest']),
    );
    const show = await ollama.show({ model: 'tinyllama' });
    expect(show.details).toBeTruthy();
    // /api/ps is the upstream's own (the simulator lists its models as loaded); none for OpenAI kind.
    const ps = (await ollama.ps()).models.map((m) => m.name);
    if (ps.length > 0) expect(ps).toContain('tinyllama:latest');
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('unknown model → ResponseError 404 (chat and show)', async () => {
    const err = await failure(
      ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(err.name).toBe('ResponseError');
    expect(err.status_code).toBe(404);
    expect(err.message).toContain('no-such-model');
    expect((await failure(ollama.show({ model: 'no-such-model' }))).status_code).toBe(404);
  });

  it('bad request → ResponseError 400', async () => {
    const err = await failure(
      ollama.chat({
        model: 'tinyllama',
        messages: [{ role: 'user', content: 'x' }],
        options: { temperature: 'hot' as unknown as number },
      }),
    );
    expect(err.status_code).toBe(400);
    expect(err.message).toContain('options.temperature');
  });

  it("upstream's 503 → ResponseError 503", async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const err = await failure(
      ollama.chat({ model: 'tinyllama', messages: [{ role: 'user', content: 'busy?' }] }),
    );
    expect(err.status_code).toBe(503);
  });

  it('a mid-stream upstream error is thrown by the stream iterator', async () => {
    s.sim.setFaults({ midStreamErrorRate: 1 });
    let parts = 0;
    const err = await failure(
      (async () => {
        for await (const _ of await ollama.chat({
          model: 'tinyllama',
          messages: [{ role: 'user', content: 'x' }],
          stream: true,
        }))
          parts++;
      })(),
    );
    expect(parts).toBeGreaterThan(0);
    expect(err.message).toBeTruthy();
  });

  it('abort() stops a stream and frees the upstream slot', async () => {
    s.sim.setFaults({ stallRate: 1 });
    s.sim.resetStats();
    const client = new Ollama({ host: s.gw.url });
    const stream = await client.chat({
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'stall' }],
      stream: true,
    });
    await waitFor(() => s.sim.stats().active === 1, 5000, 'sim slot taken');
    stream.abort();
    await failure(
      (async () => {
        for await (const _ of stream) {
          /* drain */
        }
      })(),
    ).catch(() => undefined);
    await waitFor(() => s.sim.stats().active === 0, 5000, 'sim slot freed');
    expect(s.sim.stats().aborted).toBeGreaterThanOrEqual(1);
  });
});

describe('ollama npm client → gateway with its upstream down', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ upstreams: [`openai=http://127.0.0.1:${await closedPort()}/v1`] });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('→ ResponseError 503', async () => {
    const err = await failure(
      new Ollama({ host: gw.url }).chat({ model: 'tinyllama', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(err.name).toBe('ResponseError');
    expect(err.status_code).toBe(503);
  });
});
