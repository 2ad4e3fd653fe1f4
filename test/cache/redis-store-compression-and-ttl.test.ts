import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESS_THRESHOLD_BYTES, createRedisStore, type RedisStore } from '../../src/cache/redis-store.js';
import { adminClient, deleteByPrefix, REDIS_URL, silentLogger, sleep, uniquePrefix } from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('redis-store');
let admin: Redis;
let store: RedisStore;

async function ready(s: RedisStore) {
  const end = Date.now() + 5000;
  while (s.connectionStatus() !== 'ready') {
    if (Date.now() > end) throw new Error(`redis store never became ready (${REDIS_URL})`);
    await sleep(10);
  }
}

beforeAll(async () => {
  admin = await adminClient();
  store = createRedisStore({ url: REDIS_URL, timeoutMs: 1000, logger: silentLogger });
  await ready(store);
});

afterAll(async () => {
  await deleteByPrefix(admin, prefix);
  await store.close();
  await admin.quit();
});

describe.skipIf(missing('redis'))('redis store (L2)', () => {
  it('gzips values over 1 KB behind the gzip magic marker and reads them back intact', async () => {
    const big = JSON.stringify({ text: 'lorem ipsum dolor sit amet '.repeat(200), n: 'ü€𝄞' });
    expect(Buffer.byteLength(big)).toBeGreaterThan(COMPRESS_THRESHOLD_BYTES);
    const small = '{"tiny":"ü"}';
    await store.set(`${prefix}big`, big, 60_000);
    await store.set(`${prefix}small`, small, 60_000);

    const raw = await admin.getBuffer(`${prefix}big`);
    expect(raw?.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(raw!.length).toBeLessThan(Buffer.byteLength(big));
    expect(await admin.get(`${prefix}small`)).toBe(small);

    expect((await store.get(`${prefix}big`))?.value).toBe(big);
    expect((await store.get(`${prefix}small`))?.value).toBe(small);

    const c = store.stats().compression;
    expect(c.compressedWrites).toBe(1);
    expect(c.writes).toBe(2);
    expect(c.bytesBeforeCompression).toBe(Buffer.byteLength(big));
    expect(c.bytesAfterCompression).toBe(raw!.length);
    expect(c.bytesSaved).toBe(Buffer.byteLength(big) - raw!.length);
    expect(c.ratio).toBeLessThan(1);
  });

  it('returns the remaining TTL from Redis and expires entries', async () => {
    await store.set(`${prefix}ttl`, 'v', 600);
    const hit = await store.get(`${prefix}ttl`);
    expect(hit?.ttlMs).toBeGreaterThan(0);
    expect(hit?.ttlMs).toBeLessThanOrEqual(600);
    await sleep(700);
    expect(await store.get(`${prefix}ttl`)).toBeUndefined();
  });

  it('deleteByPattern removes only keys under the prefix that contain the pattern', async () => {
    const mine = `${prefix}r:`;
    const foreign = `${prefix}foreign:`;
    await admin.set(`${mine}chat:tinyllama:1`, 'a');
    await admin.set(`${mine}chat:llama3.2:2`, 'b');
    await admin.set(`${foreign}chat:tinyllama:3`, 'c');
    await admin.set(`${prefix}r_not_mine:tinyllama`, 'd');
    expect(await store.deleteByPattern(mine, 'tiny*a')).toBe(1);
    expect(
      await admin.exists(
        `${mine}chat:llama3.2:2`,
        `${foreign}chat:tinyllama:3`,
        `${prefix}r_not_mine:tinyllama`,
      ),
    ).toBe(3);
    expect(await store.deleteByPattern(mine)).toBe(1);
    expect(await admin.exists(`${foreign}chat:tinyllama:3`)).toBe(1);
  });

  it('a glob metacharacter in the pattern is matched literally', async () => {
    const mine = `${prefix}g:`;
    await admin.set(`${mine}a[1]`, 'x');
    await admin.set(`${mine}a1`, 'x');
    expect(await store.deleteByPattern(mine, '[1]')).toBe(1);
    expect(await admin.exists(`${mine}a1`)).toBe(1);
  });

  it('an unreachable Redis is a miss, never an error, and health says degraded', async () => {
    const down = createRedisStore({ url: 'redis://127.0.0.1:1', timeoutMs: 20, logger: silentLogger });
    try {
      expect(await down.get('k')).toBeUndefined();
      await expect(down.set('k', 'v', 1000)).resolves.toBeUndefined();
      expect(down.health().status).toBe('degraded');
      expect(down.stats().misses).toBe(1);
    } finally {
      await down.close();
    }
  });
});
