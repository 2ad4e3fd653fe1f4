import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import type { TestGateway } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';
import { ADMIN_KEY, adminCreateKey, chatBody, startTestGateway, storeSettings } from './helpers.js';

const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

describe.each(['postgres', 'pglite'] as const)('ownership and cache scope, store %s', (engine) => {
  let sim: SimHandle;
  let shared: TestGateway;
  let perKey: TestGateway;
  const schemas: string[] = [];
  beforeAll(async () => {
    if (engine === 'postgres') expect(missing('postgres'), 'PostgreSQL is needed').toBe(false);
    sim = await startSimulator({ port: 0, models: ['tinyllama'], tps: 0 });
    const st = await storeSettings(engine, 'own');
    if (st.schema) schemas.push(st.schema);
    const common = { upstreams: [`ollama=${sim.url}`], authMode: 'on', adminKey: ADMIN_KEY };
    shared = await startTestGateway({ ...common, ...st.overrides });
    const st2 = await storeSettings(engine, 'own2');
    if (st2.schema) schemas.push(st2.schema);
    perKey = await startTestGateway({ ...common, ...st2.overrides, cachePerKey: true });
  }, 60_000);
  afterAll(async () => {
    await shared?.close();
    await perKey?.close();
    await sim?.close();
    for (const s of schemas) await dropSchema(TEST_DATABASE_URL, s);
  });

  it('a task is seen only by the key that made it (and the admin)', async () => {
    const a = await adminCreateKey(shared, { name: 'a' });
    const b = await adminCreateKey(shared, { name: 'b' });
    const sub = await fetch(`${shared.url}/api/v1/tasks`, {
      method: 'POST',
      headers: auth(a.key),
      body: JSON.stringify({ task_type: 'text_generation', payload: { prompt: 'hello' } }),
    });
    expect(sub.status).toBe(202);
    const { task_id: id } = (await sub.json()) as { task_id: string };
    const list = async (key: string) =>
      (
        (await (await fetch(`${shared.url}/api/v1/tasks`, { headers: auth(key) })).json()) as {
          tasks: Array<{ task_id: string }>;
        }
      ).tasks.map((t) => t.task_id);
    expect(await list(a.key)).toContain(id);
    expect(await list(b.key)).not.toContain(id);
    expect(await list(ADMIN_KEY)).toContain(id);
    expect((await fetch(`${shared.url}/api/v1/tasks/${id}`, { headers: auth(a.key) })).status).toBe(200);
    expect((await fetch(`${shared.url}/api/v1/tasks/${id}`, { headers: auth(b.key) })).status).toBe(404);
    expect(
      (
        await fetch(`${shared.url}/api/v1/tasks/${id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${b.key}` },
        })
      ).status,
    ).toBe(404);
    expect((await fetch(`${shared.url}/api/v1/tasks/${id}`, { headers: auth(ADMIN_KEY) })).status).toBe(200);
    // Once finished it is still only a's.
    const end = Date.now() + 10_000;
    let status = '';
    while (Date.now() < end && status !== 'completed') {
      status = (
        (await (await fetch(`${shared.url}/api/v1/tasks/${id}`, { headers: auth(a.key) })).json()) as {
          status: string;
        }
      ).status;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('completed');
    expect(await list(b.key)).not.toContain(id);
    expect(await list(a.key)).toContain(id);
  }, 120_000);

  const cacheOf = async (gw: TestGateway, key: string, content: string) => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: auth(key),
      // temperature 0: the OpenAI surface caches only deterministic requests (docs: cache policy).
      body: JSON.stringify({ ...(JSON.parse(chatBody('tinyllama', content)) as object), temperature: 0 }),
    });
    await r.text();
    return r.headers.get('x-sutazai-cache');
  };

  it('the cache is shared by keys by default', async () => {
    const a = await adminCreateKey(shared, { name: 'ca' });
    const b = await adminCreateKey(shared, { name: 'cb' });
    const q = `shared ${Math.random()}`;
    expect(await cacheOf(shared, a.key, q)).toBe('miss');
    expect(await cacheOf(shared, b.key, q)).toMatch(/^hit/);
  });

  it('SUTAZAI_CACHE_PER_KEY=true keeps each key its own entries', async () => {
    const a = await adminCreateKey(perKey, { name: 'pa' });
    const b = await adminCreateKey(perKey, { name: 'pb' });
    const q = `per key ${Math.random()}`;
    expect(await cacheOf(perKey, a.key, q)).toBe('miss');
    expect(await cacheOf(perKey, b.key, q)).toBe('miss');
    expect(await cacheOf(perKey, a.key, q)).toMatch(/^hit/);
    expect(await cacheOf(perKey, b.key, q)).toMatch(/^hit/);
  });
});
