import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { adminClient, deleteByPrefix, REDIS_URL, uniquePrefix } from '../cache/helpers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { missing } from '../helpers/services.js';

// Issue 23, finding 12: a request sent right after an identical one had been answered was
// sometimes reported `x-sutazai-cache: merged`, `cached: false`: the flight stayed open after its
// response had ended (waiting for the Redis write), so the repeat joined it. Now the response
// ends only once the answer is in the cache, on every gateway sharing it.

const prefix = uniquePrefix('seq-hit');
let sim: SimHandle;
let a: TestGateway;
let b: TestGateway;
let admin: Redis;

describe.skipIf(missing('redis'))('finding 12: a sequential repeat is always a hit', () => {
  beforeAll(async () => {
    admin = await adminClient();
    // Long answers: a bigger Redis write (compressed), so the write outlasts the response more often.
    sim = await startSimulator({ port: 0, models: ['tinyllama'], embedModels: [], defaultTokens: 2000 });
    const common = { upstreams: [`ollama=${sim.url}`], redisUrl: REDIS_URL, cachePrefix: prefix };
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

  const chat = async (gw: TestGateway, message: string) => {
    const r = await fetch(`${gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message }),
    });
    const body = (await r.json()) as { cached: boolean };
    return { cache: r.headers.get('x-sutazai-cache'), cached: body.cached };
  };

  it('on the same gateway (L1) and on another one sharing Redis (L2), 40 times over', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      const prompt = `sequential repeat ${i} ${Date.now()}`;
      const first = await chat(a, prompt);
      expect(first.cache).toBe('miss');
      const [same, other] = [await chat(a, prompt), await chat(b, prompt)];
      seen.push(`${same.cache}/${other.cache}`);
      expect({ i, same, other }).toEqual({
        i,
        same: { cache: 'hit-l1', cached: true },
        other: { cache: 'hit-l2', cached: true },
      });
    }
    expect(new Set(seen)).toEqual(new Set(['hit-l1/hit-l2']));
  });
});
