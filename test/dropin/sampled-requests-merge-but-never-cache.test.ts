import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCaching } from '../../src/cache/policy.js';
import type { ChatRequest } from '../../src/pipeline/types.js';
import { startStack, startTestGateway, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

/**
 * Issue 22 item 3: on the OpenAI and Ollama surfaces a sampled request (temperature ≠ 0 or unset,
 * no seed) is never answered from the cache — "regenerate" gets a new answer — but identical
 * requests in flight together still share one upstream call; deterministic ones are cached; the
 * v1 API keeps caching by prompt; each surface's policy is a setting; x-sutazai-cache tells the truth.
 */

const req = (options: ChatRequest['options']): ChatRequest => ({
  kind: 'chat',
  model: 'm',
  messages: [{ role: 'user', content: 'x' }],
  options,
  stream: false,
  priority: 'interactive',
  cache: { use: true },
});

describe('decideCaching: the sampled-request policy', () => {
  it.each([
    ['openai', {}, {}, 'sampled'],
    ['openai', { temperature: 0.7 }, {}, 'sampled'],
    ['openai', { temperature: 0 }, {}, 'cacheable'],
    ['openai', { temperature: 1, seed: 3 }, {}, 'cacheable'],
    ['ollama', {}, { ollama: 'cache' }, 'cacheable'],
    ['v1', { temperature: 0.7 }, { v1: 'cache' }, 'cacheable'],
  ] as const)('%s %j with %j → %s', (surface, options, sampled, reason) => {
    const d = decideCaching(req(options), { caller: { surface } }, 'all', sampled);
    expect(d.reason).toBe(reason);
    expect(d.merge).toBe(true);
    expect(d.lookup).toBe(reason === 'cacheable');
    expect(d.store).toBe(reason === 'cacheable');
  });
});

describe('over HTTP, with a simulator that samples', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ sim: { sampling: true, tps: 200 } });
  });
  afterAll(async () => {
    await s.close();
  });

  const openai = (body: Record<string, unknown>, url = s.gw.url) =>
    postJson(`${url}/v1/chat/completions`, {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'write a line' }],
      max_tokens: 6,
      ...body,
    });
  const text = (r: Awaited<ReturnType<typeof openai>>) =>
    (r.json.choices as { message: { content: string } }[])[0]?.message.content;

  it('OpenAI: regenerate at temperature 0.7 gives a new answer, never from the cache', async () => {
    const a = await openai({ temperature: 0.7 });
    const b = await openai({ temperature: 0.7 });
    expect(text(a)).not.toBe(text(b));
    expect([a.headers.get('x-sutazai-cache'), b.headers.get('x-sutazai-cache')]).toEqual([
      'bypass',
      'bypass',
    ]);
  });

  it('OpenAI: temperature 0 and a fixed seed are cached', async () => {
    for (const body of [{ temperature: 0 }, { temperature: 0.9, seed: 11 }]) {
      const a = await openai(body);
      const b = await openai(body);
      expect(a.headers.get('x-sutazai-cache')).toBe('miss');
      expect(b.headers.get('x-sutazai-cache')).toBe('hit-l1');
      expect(text(b)).toBe(text(a));
    }
  });

  it('Ollama: identical sampled requests in flight together share one upstream call', async () => {
    const before = s.sim.stats().generations;
    const body = {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'three at once' }],
      stream: false,
      options: { num_predict: 20 },
    };
    const rs = await Promise.all([1, 2, 3].map(() => postJson(`${s.gw.url}/api/chat`, body)));
    expect(s.sim.stats().generations - before).toBe(1);
    expect(rs.map((r) => r.headers.get('x-sutazai-cache')).sort()).toEqual(['bypass', 'merged', 'merged']);
    expect(new Set(rs.map((r) => (r.json.message as { content: string }).content)).size).toBe(1);
    // ...and once they are done, the same request is a fresh sample.
    const again = await postJson(`${s.gw.url}/api/chat`, body);
    expect(again.headers.get('x-sutazai-cache')).toBe('bypass');
    expect((again.json.message as { content: string }).content).not.toBe(
      (rs[0]?.json.message as { content: string }).content,
    );
  });

  it('v1 API keeps caching by prompt (its default temperature is 0.7)', async () => {
    const a = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'cache me', model: 'tinyllama' });
    const b = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'cache me', model: 'tinyllama' });
    expect(a.headers.get('x-sutazai-cache')).toBe('miss');
    expect(b.headers.get('x-sutazai-cache')).toBe('hit-l1');
  });

  it('SUTAZAI_CACHE_SAMPLED_OPENAI=cache caches sampled requests by prompt again', async () => {
    const gw = await startTestGateway({ upstreams: [`ollama=${s.sim.url}`], cacheSampledOpenai: 'cache' });
    try {
      const a = await openai({ temperature: 0.7, messages: [{ role: 'user', content: 'policy' }] }, gw.url);
      const b = await openai({ temperature: 0.7, messages: [{ role: 'user', content: 'policy' }] }, gw.url);
      expect(b.headers.get('x-sutazai-cache')).toBe('hit-l1');
      expect(text(b)).toBe(text(a));
    } finally {
      await gw.close();
    }
  });
});
