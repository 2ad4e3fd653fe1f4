import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { createModelCatalog, createUpstreams } from '../../src/upstreams/registry.js';
import type { ModelCatalog } from '../../src/upstreams/registry.js';
import type { UpstreamAdapter } from '../../src/upstreams/types.js';
import { chatReq, closedPort, collect, upstreamConfig } from '../contracts/helpers.js';

describe('model catalog over two simulators', () => {
  let simA: SimHandle;
  let simB: SimHandle;
  const cleanups: Array<() => Promise<void> | void> = [];

  const build = (
    adapters: UpstreamAdapter[],
    opts: { minRefreshGapMs?: number } = {},
  ): { catalog: ModelCatalog; adapters: UpstreamAdapter[] } => {
    const catalog = createModelCatalog({ adapters, refreshMs: 60_000, ...opts });
    cleanups.push(async () => {
      catalog.close();
      await Promise.all(adapters.map((a) => a.close()));
    });
    return { catalog, adapters };
  };

  beforeAll(async () => {
    simA = await startSimulator({ models: ['llama3.2', 'shared:7b'], embedModels: ['nomic-embed-text'] });
    simB = await startSimulator({ models: ['qwen2.5:0.5b', 'shared:7b'], embedModels: [] });
  });
  afterAll(async () => {
    await Promise.all([simA.close(), simB.close()]);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('createUpstreams picks the adapter by kind and rejects duplicate ids', () => {
    const adapters = createUpstreams([
      upstreamConfig('ollama', simA.url, {}, 'a'),
      upstreamConfig('openai', `${simB.url}/v1`, {}, 'b'),
    ]);
    cleanups.push(async () => {
      await Promise.all(adapters.map((a) => a.close()));
    });
    expect(adapters.map((a) => [a.id, a.kind])).toEqual([
      ['a', 'ollama'],
      ['b', 'openai'],
    ]);
    expect(() =>
      createUpstreams([
        upstreamConfig('ollama', simA.url, {}, 'x'),
        upstreamConfig('ollama', simA.url, {}, 'x'),
      ]),
    ).toThrow(/duplicate/);
  });

  it('routes each model to the upstream that serves it, with name:latest ≡ name', async () => {
    const { catalog } = build(
      createUpstreams([
        upstreamConfig('ollama', simA.url, {}, 'a'),
        upstreamConfig('openai', `${simB.url}/v1`, {}, 'b'),
      ]),
    );
    expect((await catalog.resolve('llama3.2')).id).toBe('a');
    expect((await catalog.resolve('llama3.2:latest')).id).toBe('a');
    expect((await catalog.resolve('nomic-embed-text')).id).toBe('a');
    expect((await catalog.resolve('qwen2.5:0.5b')).id).toBe('b');
    const names = (await catalog.list()).map((m) => m.name).sort();
    expect(names).toEqual(['llama3.2:latest', 'nomic-embed-text:latest', 'qwen2.5:0.5b', 'shared:7b']);
    expect(catalog.snapshot()).toHaveLength(4);
  });

  it('unknown model → 404 when upstreams are reachable', async () => {
    const { catalog } = build(createUpstreams([upstreamConfig('ollama', simA.url, {}, 'a')]), {
      minRefreshGapMs: 0,
    });
    await expect(catalog.resolve('missing:1b')).rejects.toMatchObject({
      code: 'SUTAZAI_ERR_MODEL_NOT_FOUND',
      status: 404,
    });
  });

  it('unknown model with every upstream down → 503', async () => {
    const [p1, p2] = await Promise.all([closedPort(), closedPort()]);
    const { catalog } = build(
      createUpstreams([
        upstreamConfig('ollama', `http://127.0.0.1:${p1}`, {}, 'a'),
        upstreamConfig('openai', `http://127.0.0.1:${p2}/v1`, {}, 'b'),
      ]),
    );
    await expect(catalog.resolve('llama3.2')).rejects.toMatchObject({
      code: 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE',
      status: 503,
    });
  });

  it('listings failing for another reason than a refused connection → the call reports the real status', async () => {
    const slow = await startSimulator({ models: ['llama3.2'], faults: { slowHeadersMs: 5000 } });
    cleanups.push(() => slow.close());
    const { catalog } = build(
      createUpstreams([upstreamConfig('ollama', slow.url, { totalMs: 200 }, 'slow')]),
    );
    const adapter = await catalog.resolve('llama3.2');
    expect(adapter.id).toBe('slow');
    await expect(collect(adapter.chat(chatReq(), new AbortController().signal))).rejects.toMatchObject({
      code: 'SUTAZAI_ERR_UPSTREAM_TIMEOUT',
      status: 504,
    });
  });

  it('one upstream down: its peer still serves, unknown models are 404', async () => {
    const port = await closedPort();
    const { catalog } = build(
      createUpstreams([
        upstreamConfig('ollama', `http://127.0.0.1:${port}`, {}, 'down'),
        upstreamConfig('ollama', simB.url, {}, 'b'),
      ]),
    );
    expect((await catalog.resolve('qwen2.5:0.5b')).id).toBe('b');
    await expect(catalog.resolve('llama3.2')).rejects.toMatchObject({ status: 404 });
  });

  it('a model served by both goes to the upstream with fewer in-flight requests', async () => {
    const slow = await startSimulator({ models: ['shared:7b'], tps: 20, defaultTokens: 400 });
    cleanups.push(() => slow.close());
    const { catalog, adapters } = build(
      createUpstreams([
        upstreamConfig('ollama', slow.url, {}, 'busy'),
        upstreamConfig('ollama', simB.url, {}, 'idle'),
      ]),
    );
    const busy = adapters[0] as UpstreamAdapter;
    expect((await catalog.resolve('shared:7b')).id).toBe('busy'); // tie → first
    const ac = new AbortController();
    const it = busy.chat(chatReq({ model: 'shared:7b', stream: true }), ac.signal)[Symbol.asyncIterator]();
    await it.next();
    expect(busy.inFlight?.()).toBe(1);
    expect((await catalog.resolve('shared:7b')).id).toBe('idle');
    await it.return?.();
    expect((await catalog.resolve('shared:7b')).id).toBe('busy');
  });

  it('an unknown model triggers a refresh that finds an upstream which came up later', async () => {
    const port = await closedPort();
    const { catalog } = build(
      createUpstreams([upstreamConfig('ollama', `http://127.0.0.1:${port}`, {}, 'late')]),
      {
        minRefreshGapMs: 0,
      },
    );
    await expect(catalog.resolve('llama3.2')).rejects.toMatchObject({ status: 503 });
    const late = await startSimulator({ port, models: ['llama3.2'] });
    cleanups.push(() => late.close());
    expect((await catalog.resolve('llama3.2')).id).toBe('late');
  });

  it('on-demand refreshes are rate-limited to the configured gap', async () => {
    simA.resetStats();
    const { catalog } = build(createUpstreams([upstreamConfig('ollama', simA.url, {}, 'a')]), {
      minRefreshGapMs: 60_000,
    });
    await catalog.list();
    await Promise.all(
      ['x1', 'x2', 'x3'].map((m) => expect(catalog.resolve(m)).rejects.toMatchObject({ status: 404 })),
    );
    expect(simA.stats().requests['/api/tags']).toBe(1);
  });
});
