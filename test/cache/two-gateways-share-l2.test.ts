import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { getJson, parseSse, postJson, waitFor } from '../helpers/http.js';
import { adminClient, deleteByPrefix, REDIS_URL, uniquePrefix } from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('two-gw');
let sim: SimHandle;
let a: TestGateway;
let b: TestGateway;
let admin: Redis;

beforeAll(async () => {
  admin = await adminClient();
  sim = await startSimulator({ port: 0, models: ['tinyllama'], embedModels: [], defaultTokens: 600 });
  const common = {
    upstreams: [`ollama=${sim.url}`],
    redisUrl: REDIS_URL,
    cachePrefix: prefix,
    redisTimeoutMs: 1000,
  };
  a = await startTestGateway(common);
  b = await startTestGateway(common);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await sim?.close();
  await deleteByPrefix(admin, prefix);
  await admin.quit();
});

const l2Writes = async (gw: TestGateway) => {
  const s = await getJson(`${gw.url}/api/v1/cache/stats`);
  return (s.json.l2 as { writes: number }).writes;
};

describe.skipIf(missing('redis'))('two gateway instances sharing L2 (Redis)', () => {
  it('one computes, the other hits L2, then its own L1; both answers identical', async () => {
    const body = { message: 'shared answer please', options: { temperature: 0 } };
    const first = await postJson(`${a.url}/api/v1/chat`, body);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-sutazai-cache')).toBe('miss');
    expect(first.json.cached).toBe(false);
    await waitFor(async () => (await l2Writes(a)) >= 1, 5000, 'L2 write on gateway A');

    const second = await postJson(`${b.url}/api/v1/chat`, body);
    expect(second.headers.get('x-sutazai-cache')).toBe('hit-l2');
    expect(second.json.cached).toBe(true);
    expect(second.json.response).toBe(first.json.response);
    expect(second.json.usage).toEqual(first.json.usage);

    const third = await postJson(`${b.url}/api/v1/chat`, body);
    expect(third.headers.get('x-sutazai-cache')).toBe('hit-l1');
    expect(sim.stats().generations).toBe(1);
  });

  it('a long answer is gzip-compressed in Redis and replayed intact as a stream on the other instance', async () => {
    const before = sim.stats().generations;
    const body = { message: 'a long one', options: { temperature: 0, num_predict: 500 } };
    const first = await postJson(`${a.url}/api/v1/chat`, body);
    expect(first.status).toBe(200);
    expect(String(first.json.response).length).toBeGreaterThan(1024);
    await waitFor(async () => (await l2Writes(a)) >= 2, 5000, 'second L2 write');

    const stats = (await getJson(`${a.url}/api/v1/cache/stats`)).json.l2 as Record<string, number>;
    expect(stats.compressed_writes).toBeGreaterThanOrEqual(1);
    expect(stats.bytes_after_compression).toBeLessThan(stats.bytes_before_compression!);
    expect(stats.bytes_saved).toBe(stats.bytes_before_compression! - stats.bytes_after_compression!);
    expect(stats.compression_ratio).toBeLessThan(1);

    const res = await fetch(`${b.url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.headers.get('x-sutazai-cache')).toBe('hit-l2');
    const events = parseSse(await res.text());
    const tokens = events.filter((e) => e.event === 'token').map((e) => (e.data as { text: string }).text);
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    expect(tokens.join('')).toBe(first.json.response);
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data).toMatchObject({ cached: true, usage: first.json.usage });
    expect(sim.stats().generations).toBe(before + 1);
  });
});
