import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { getJson, postJson, waitFor } from '../helpers/http.js';
import { adminClient, ownRedis, uniquePrefix, type OwnRedis } from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('redis-down');
let redis: OwnRedis;
let sim: SimHandle;
let gw: TestGateway;

beforeAll(async () => {
  // A private redis-server: this test kills and pauses it; the shared one on 6379 is left alone.
  redis = await ownRedis();
  sim = await startSimulator({ port: 0, models: ['tinyllama'], embedModels: [] });
  gw = await startTestGateway({
    upstreams: [`ollama=${sim.url}`],
    redisUrl: redis.url,
    cachePrefix: prefix,
    redisTimeoutMs: 50,
  });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
  await redis?.stop();
});

const chat = (message: string) => postJson(`${gw.url}/api/v1/chat`, { message, options: { temperature: 0 } });
const cacheDep = async () => {
  const h = await getJson(`${gw.url}/health`, { 'cache-control': 'no-cache' });
  return (h.json.dependencies as Record<string, { status: string }>).cache?.status;
};
const l2Keys = async () => {
  const r = await adminClient(redis.url);
  try {
    return (await r.keys(`${prefix}r:*`)).length; // other services share the prefix (bull, metrics)
  } finally {
    await r.quit();
  }
};

describe.skipIf(missing('redisServer'))('Redis trouble never fails a request', () => {
  it('killed mid-test: requests continue on L1, health says degraded, L2 comes back by itself', async () => {
    await waitFor(async () => (await cacheDep()) === 'healthy', 5000, 'cache healthy at start');
    expect((await chat('before')).status).toBe(200);
    await waitFor(async () => (await l2Keys()) === 1, 5000, 'first entry in L2');

    await redis.stop();
    const during = await Promise.all(['before', 'during-1', 'during-2', 'during-1'].map(chat));
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(during[0]!.headers.get('x-sutazai-cache')).toBe('hit-l1');
    await waitFor(async () => (await cacheDep()) === 'degraded', 5000, 'cache degraded');
    expect((await chat('during-1')).headers.get('x-sutazai-cache')).toBe('hit-l1');

    await redis.start();
    await waitFor(async () => (await cacheDep()) === 'healthy', 10_000, 'cache healthy again');
    expect((await chat('after')).status).toBe(200);
    await waitFor(
      async () => (await l2Keys()) === 1,
      5000,
      'new entry written to the restarted (empty) Redis',
    );
  });

  it('paused (slow) Redis: lookups time out into misses, never errors', async () => {
    redis.pause();
    try {
      const res = await Promise.all(['slow-1', 'slow-2', 'after'].map(chat));
      expect(res.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(res[2]!.headers.get('x-sutazai-cache')).toBe('hit-l1');
      await waitFor(async () => (await cacheDep()) === 'degraded', 5000, 'cache degraded while paused');
    } finally {
      redis.resume();
    }
    await waitFor(
      async () => (await chat('slow-3')).status === 200 && (await cacheDep()) === 'healthy',
      10_000,
      'recovered',
    );
  });
});
