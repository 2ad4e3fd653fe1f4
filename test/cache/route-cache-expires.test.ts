import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeCache } from '../../src/http/route-cache.js';
async function app() {
  const f = Fastify();
  let t = 1000;
  await f.register(routeCache, { now: () => t });
  let calls = 0;
  let status = 200;
  f.get('/cached', { config: { cache: { ttlS: 0.2 } } }, async (_req, reply) => {
    calls++;
    void reply.code(status);
    return { calls };
  });
  f.get('/plain', async () => ({ calls: ++calls }));
  return {
    f,
    get calls() {
      return calls;
    },
    setStatus: (s: number) => (status = s),
    advance: (ms: number) => (t += ms),
  };
}

describe('route-level cache option', () => {
  it('serves hits until the TTL runs out, then recomputes; says hit/miss in a header', async () => {
    const a = await app();
    const r1 = await a.f.inject('/cached');
    const r2 = await a.f.inject('/cached');
    expect(r1.headers['x-sutazai-cache']).toBe('miss');
    expect(r2.headers['x-sutazai-cache']).toBe('hit');
    expect(r2.json()).toEqual({ calls: 1 });
    expect(r2.headers['content-type']).toMatch(/application\/json/);
    // A hit sends the stored bytes: the same body and type as the answer it was stored from.
    expect(r2.body).toBe(r1.body);
    expect(r2.headers['content-type']).toBe(r1.headers['content-type']);
    a.advance(199);
    expect((await a.f.inject('/cached')).headers['x-sutazai-cache']).toBe('hit');
    a.advance(2);
    const r3 = await a.f.inject('/cached');
    expect(r3.headers['x-sutazai-cache']).toBe('miss');
    expect(r3.json()).toEqual({ calls: 2 });
    // A hit does not extend the entry's life.
    a.advance(150);
    expect((await a.f.inject('/cached')).headers['x-sutazai-cache']).toBe('hit');
    a.advance(60);
    expect((await a.f.inject('/cached')).json()).toEqual({ calls: 3 });
    await a.f.close();
  });

  it('keys by URL including the query, skips non-2xx answers, honours Cache-Control: no-cache', async () => {
    const a = await app();
    await a.f.inject('/cached?x=1');
    expect((await a.f.inject('/cached?x=2')).headers['x-sutazai-cache']).toBe('miss');
    expect((await a.f.inject('/cached?x=1')).headers['x-sutazai-cache']).toBe('hit');
    const fresh = await a.f.inject({ url: '/cached?x=1', headers: { 'cache-control': 'no-cache' } });
    expect(fresh.headers['x-sutazai-cache']).toBe('bypass');
    expect(fresh.json()).toEqual({ calls: 3 });

    a.setStatus(503);
    await a.f.inject('/cached?y=1');
    expect((await a.f.inject('/cached?y=1')).headers['x-sutazai-cache']).toBe('miss');
    expect((await a.f.inject('/plain')).headers['x-sutazai-cache']).toBeUndefined();
    await a.f.close();
  });

  it('refuses a non-GET route or a bad TTL at start-up', async () => {
    const f = Fastify();
    await f.register(routeCache);
    expect(() => f.post('/x', { config: { cache: { ttlS: 5 } } }, async () => ({}))).toThrow(
      /not a GET route/,
    );
    expect(() => f.get('/y', { config: { cache: { ttlS: 0 } } }, async () => ({}))).toThrow(/ttlS > 0/);
    await f.close();
  });
});
