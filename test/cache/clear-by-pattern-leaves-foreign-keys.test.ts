import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { getJson, postJson, waitFor } from '../helpers/http.js';
import { adminClient, deleteByPrefix, REDIS_URL, uniquePrefix } from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('clear');
const otherGateway = uniquePrefix('clear-other');
let stack: Stack;
let admin: Redis;

beforeAll(async () => {
  admin = await adminClient();
  stack = await startStack({ gateway: { redisUrl: REDIS_URL, cachePrefix: prefix, redisTimeoutMs: 1000 } });
});

afterAll(async () => {
  await stack?.close();
  await deleteByPrefix(admin, prefix);
  await deleteByPrefix(admin, otherGateway);
  await admin.quit();
});

const chat = (message: string, model: string) =>
  postJson(`${stack.gw.url}/api/v1/chat`, { message, model, options: { temperature: 0 } });

describe.skipIf(missing('redis'))('POST /api/v1/cache/clear', () => {
  it('deletes only this gateway’s response entries that match, on both tiers', async () => {
    await chat('one', 'tinyllama');
    await chat('two', 'tinyllama');
    await chat('three', 'llama3.2');
    await waitFor(async () => (await admin.keys(`${prefix}r:*`)).length === 3, 5000, 'three L2 entries');
    const foreign = [
      `${otherGateway}r:chat:tinyllama:abc`,
      `${prefix}bull:tinyllama:job`,
      `tinyllama:${prefix}r:x`,
    ];
    for (const k of foreign) await admin.set(k, 'keep me');

    const res = await postJson(`${stack.gw.url}/api/v1/cache/clear`, { pattern: 'tinyllama' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deleted: 4, tiers: { l1: 2, l2: 2 }, pattern: 'tinyllama' });
    expect(await admin.exists(...foreign)).toBe(foreign.length);
    expect(await admin.keys(`${prefix}r:*`)).toHaveLength(1);

    expect((await chat('one', 'tinyllama')).headers.get('x-sutazai-cache')).toBe('miss');
    expect((await chat('three', 'llama3.2')).headers.get('x-sutazai-cache')).toBe('hit-l1');

    const all = await postJson(`${stack.gw.url}/api/v1/cache/clear`, {});
    expect(all.status).toBe(200);
    expect((all.json.tiers as { l1: number }).l1).toBe(2);
    expect(await admin.exists(...foreign)).toBe(foreign.length);
    const stats = await getJson(`${stack.gw.url}/api/v1/cache/stats`);
    expect(stats.json.l1).toMatchObject({ entries: 0 });
  });

  it('validates the body: 400 naming the field', async () => {
    for (const body of [{ pattern: 5 }, { pattern: '' }, { pattern: 'a\u0001' }]) {
      const res = await postJson(`${stack.gw.url}/api/v1/cache/clear`, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'SUTAZAI_ERR_VALIDATION', param: 'pattern' });
    }
    const extra = await postJson(`${stack.gw.url}/api/v1/cache/clear`, { patern: 'x' });
    expect(extra.status).toBe(400);
  });

  it('stats report per-tier hits, misses, hit rate, entries, bytes, evictions, compression, merges', async () => {
    await chat('stats', 'tinyllama');
    await chat('stats', 'tinyllama');
    const s = await getJson(`${stack.gw.url}/api/v1/cache/stats`);
    expect(s.status).toBe(200);
    for (const tier of ['l1', 'l2']) {
      expect(Object.keys(s.json[tier] as object)).toEqual(
        expect.arrayContaining(['hits', 'misses', 'hit_rate', 'entries', 'bytes', 'evictions']),
      );
    }
    expect(Object.keys(s.json.l2 as object)).toEqual(
      expect.arrayContaining(['compressed_writes', 'compression_ratio', 'bytes_saved']),
    );
    expect(s.json.merge).toMatchObject({ merged_requests: expect.any(Number) as number });
    expect((s.json.requests as { hits: number }).hits).toBeGreaterThanOrEqual(1);
  });
});
