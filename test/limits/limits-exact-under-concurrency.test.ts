import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import { ADMIN_KEY, adminCreateKey, startTestGateway, storeSettings } from '../auth/helpers.js';
import type { TestGateway } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.js';

/**
 * Per-key limits hold exactly under a burst: 200 concurrent requests spread over two gateway
 * processes sharing Redis (PostgreSQL store), and over one process with the in-process limiter
 * (PGlite store). Never more 2xx than the limit; never fewer when the limit allows them all.
 */
describe.each(['postgres', 'pglite'] as const)('per-key limits, store %s', (engine) => {
  let sim: SimHandle;
  let gws: TestGateway[] = [];
  let schema: string | undefined;
  const prefix = `t-limits-${process.pid}-${Date.now().toString(36)}:`;

  beforeAll(async () => {
    if (engine === 'postgres')
      expect(missing('postgres', 'redis'), 'PostgreSQL and Redis are needed').toBe(false);
    sim = await startSimulator({
      port: 0,
      models: ['tinyllama'],
      tps: 0,
      ttftMs: 100,
      parallel: 1000,
      maxQueue: 10_000,
    });
    const st = await storeSettings(engine, 'limits');
    schema = st.schema;
    const common = {
      upstreams: [`ollama=${sim.url}`],
      authMode: 'on',
      adminKey: ADMIN_KEY,
      cacheMode: 'off',
      // The simulator runs 1000 at once: the gateway's admission must not be what limits here.
      upstreamSlots: 1000,
      ...st.overrides,
    };
    if (engine === 'postgres') {
      const redis = { redisUrl: TEST_REDIS_URL, cachePrefix: prefix };
      gws = [
        await startTestGateway({ ...common, ...redis }),
        await startTestGateway({ ...common, ...redis }),
      ];
    } else gws = [await startTestGateway(common)];
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.close()));
    await sim?.close();
    if (schema) await dropSchema(TEST_DATABASE_URL, schema);
  });

  const chat = (gw: TestGateway, key: string, i: number, extra: Record<string, unknown> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tinyllama',
        messages: [{ role: 'user', content: `q${i}` }],
        max_tokens: 8,
        ...extra,
      }),
    });

  async function burst(key: string, n: number) {
    const res = await Promise.all(Array.from({ length: n }, (_, i) => chat(gws[i % gws.length]!, key, i)));
    const bodies = await Promise.all(res.map((r) => r.text()));
    return { res, bodies, ok: res.filter((r) => r.status === 200).length };
  }

  it('rpm 50: exactly 50 of 200 concurrent requests answered, the rest 429 with the headers', async () => {
    const { key } = await adminCreateKey(gws[0]!, { name: 'rpm50', rpm: 50 });
    const { res, bodies, ok } = await burst(key, 200);
    expect(ok).toBe(50);
    const refused = res.filter((r) => r.status === 429);
    expect(refused).toHaveLength(150);
    const r = refused[0]!;
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('50');
    expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    const body = JSON.parse(bodies[res.indexOf(r)]!) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  }, 120_000);

  it('rpm 1000: all 200 concurrent requests answered (no false refusals)', async () => {
    const { key } = await adminCreateKey(gws[0]!, { name: 'rpm1000', rpm: 1000, concurrency: 500 });
    const { ok } = await burst(key, 200);
    expect(ok).toBe(200);
  }, 60_000);

  it('concurrency 3: never more than 3 in flight; the rest 429 naming the limit', async () => {
    const { key } = await adminCreateKey(gws[0]!, { name: 'conc3', concurrency: 3 });
    const { res, bodies, ok } = await burst(key, 30);
    expect(ok).toBeGreaterThanOrEqual(3);
    const refused = bodies.filter((_, i) => res[i]!.status === 429);
    expect(refused.length).toBe(30 - ok);
    expect(refused.every((b) => b.includes('3 requests at once'))).toBe(true);
  }, 60_000);

  it('tpm: the reservation is settled with the real usage', async () => {
    const { key, id } = await adminCreateKey(gws[0]!, { name: 'tpm', tpm: 100_000 });
    const r = await chat(gws[0]!, key, 1, { max_tokens: 5000 });
    expect(r.status).toBe(200);
    const usage = ((await r.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    expect(usage).toBeLessThan(5000);
    // The estimate reserved > 5000; after settling the remaining tokens reflect the real usage.
    const r2 = await chat(gws[gws.length - 1]!, key, 2, { max_tokens: 1 });
    const body2 = (await r2.json()) as { usage: { total_tokens: number } };
    if (engine === 'postgres') {
      const redis = new Redis(TEST_REDIS_URL);
      await new Promise((res) => setTimeout(res, 100));
      const counted = Number(await redis.get(`${prefix}rl:{${id}}:t`));
      await redis.quit();
      expect(counted).toBe(usage + body2.usage.total_tokens);
    }
    // A key whose window is already over its tpm is refused, with the token headers.
    const { key: small } = await adminCreateKey(gws[0]!, { name: 'tpm1', tpm: 1 });
    expect((await chat(gws[0]!, small, 3)).status).toBe(200);
    const refused = await chat(gws[0]!, small, 4);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe('1');
    expect(await refused.text()).toContain('tokens per minute');
  }, 60_000);
});
