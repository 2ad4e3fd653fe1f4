import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { getJson, postJson, waitFor } from '../helpers/http.js';
import { adminClient, deleteByPrefix, REDIS_URL, sleep, uniquePrefix } from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('expiry');
let stack: Stack;
let admin: Redis;

beforeAll(async () => {
  admin = await adminClient();
  stack = await startStack({
    gateway: { redisUrl: REDIS_URL, cachePrefix: prefix, cacheTtlS: 1, redisTimeoutMs: 1000 },
  });
});

afterAll(async () => {
  await stack?.close();
  await deleteByPrefix(admin, prefix);
  await admin.quit();
});

describe.skipIf(missing('redis'))('expiry over HTTP', () => {
  it('an answer expires on both tiers after SUTAZAI_CACHE_TTL_S and is computed again', async () => {
    const body = { message: 'short-lived', options: { temperature: 0 } };
    const first = await postJson(`${stack.gw.url}/api/v1/chat`, body);
    expect(first.headers.get('x-sutazai-cache')).toBe('miss');
    await waitFor(async () => (await admin.keys(`${prefix}r:*`)).length === 1, 2000, 'L2 entry');
    const pttl = await admin.pttl((await admin.keys(`${prefix}r:*`))[0]!);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    expect((await postJson(`${stack.gw.url}/api/v1/chat`, body)).headers.get('x-sutazai-cache')).toBe(
      'hit-l1',
    );
    await sleep(1100);
    expect(await admin.keys(`${prefix}r:*`)).toHaveLength(0);
    const again = await postJson(`${stack.gw.url}/api/v1/chat`, body);
    expect(again.headers.get('x-sutazai-cache')).toBe('miss');
    expect(again.json.response).toBe(first.json.response);
    expect(stack.sim.stats().generations).toBe(2);
  });

  it('GET routes carry the route cache header', async () => {
    const a = await getJson(`${stack.gw.url}/api/v1/settings`);
    const b = await getJson(`${stack.gw.url}/api/v1/settings`);
    expect(a.headers.get('x-sutazai-cache')).toBe('miss');
    expect(b.headers.get('x-sutazai-cache')).toBe('hit');
    expect(b.json).toEqual(a.json);
  });
});
