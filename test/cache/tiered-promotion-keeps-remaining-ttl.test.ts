import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../../src/cache/entry.js';
import { createMemoryStore } from '../../src/cache/memory-store.js';
import { createRedisStore, type RedisStore } from '../../src/cache/redis-store.js';
import { createTieredCache, type L1Entry } from '../../src/cache/tiered.js';
import {
  adminClient,
  deleteByPrefix,
  REDIS_URL,
  silentLogger,
  sleep,
  textChunks,
  uniquePrefix,
} from './helpers.js';
import { missing } from '../helpers/services.js';

const prefix = uniquePrefix('tiered');
let admin: Redis;
let l2: RedisStore;

const answer: CachedAnswer = {
  kind: 'gen',
  model: 'tinyllama',
  upstream: 'sim',
  chunks: textChunks(['a', 'b']),
};
const l1 = () => createMemoryStore<L1Entry>({ maxBytes: 1 << 20, sizeOf: (e) => e.bytes });

beforeAll(async () => {
  admin = await adminClient();
  l2 = createRedisStore({ url: REDIS_URL, timeoutMs: 1000, logger: silentLogger });
  while (l2.connectionStatus() !== 'ready') await sleep(10);
});

afterAll(async () => {
  await deleteByPrefix(admin, prefix);
  await l2.close();
  await admin.quit();
});

describe.skipIf(missing('redis'))('tiered cache', () => {
  it('promotes an L2 hit into L1 with the TTL left in Redis, not a fresh one', async () => {
    const writer = createTieredCache({ l2, maxTtlMs: 60_000 });
    await writer.set(`${prefix}p`, answer, 1500);
    await sleep(600);

    const reader = createTieredCache({ l1: l1(), l2, maxTtlMs: 60_000 });
    const first = await reader.get(`${prefix}p`);
    expect(first?.tier).toBe('l2');
    expect(first?.ttlMs).toBeLessThanOrEqual(900);
    const second = await reader.get(`${prefix}p`);
    expect(second?.tier).toBe('l1');
    expect(second?.ttlMs).toBeLessThanOrEqual(900);
    expect(second?.answer).toEqual(answer);

    // Both tiers expire at the original moment.
    await sleep(1000);
    expect(await reader.get(`${prefix}p`)).toBeUndefined();
    expect(await admin.exists(`${prefix}p`)).toBe(0);
  });

  it('expires on the L1 tier alone (no Redis)', async () => {
    const c = createTieredCache({ l1: l1(), maxTtlMs: 60_000 });
    await c.set(`${prefix}only-l1`, answer, 150);
    expect((await c.get(`${prefix}only-l1`))?.tier).toBe('l1');
    await sleep(200);
    expect(await c.get(`${prefix}only-l1`)).toBeUndefined();
  });

  it('writes L1 synchronously and L2 by the time idle() resolves', async () => {
    const c = createTieredCache({ l1: l1(), l2, maxTtlMs: 60_000 });
    const p = c.set(`${prefix}sync`, answer, 60_000);
    expect((await c.get(`${prefix}sync`))?.tier).toBe('l1');
    await c.idle();
    await p;
    expect(await admin.exists(`${prefix}sync`)).toBe(1);
  });
});
