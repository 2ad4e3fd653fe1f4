import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import { ADMIN_KEY, adminCreateKey, startTestGateway, storeSettings } from '../auth/helpers.js';
import type { TestGateway } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';

interface UsageBody {
  rows: Array<Record<string, number | string | null>>;
}

/** The usage log holds one row per request with its tokens, and the API aggregates it per key. */
describe.each(['postgres', 'pglite'] as const)('usage log on %s', (engine) => {
  let sim: SimHandle;
  let gw: TestGateway;
  let schema: string | undefined;
  beforeAll(async () => {
    if (engine === 'postgres') expect(missing('postgres'), 'PostgreSQL is needed').toBe(false);
    sim = await startSimulator({
      port: 0,
      models: ['tinyllama', 'llama3.2'],
      embedModels: ['nomic-embed-text'],
      tps: 0,
    });
    const st = await storeSettings(engine, 'usage');
    schema = st.schema;
    gw = await startTestGateway({
      upstreams: [`ollama=${sim.url}`],
      authMode: 'on',
      adminKey: ADMIN_KEY,
      usageFlushMs: 50,
      ...st.overrides,
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await sim?.close();
    if (schema) await dropSchema(TEST_DATABASE_URL, schema);
  });

  const get = async (key: string, qs: string) => {
    const r = await fetch(`${gw.url}/api/v1/usage?${qs}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, body: (await r.json()) as UsageBody };
  };

  it('rows match the requests made, tokens included; a key sees only its own', async () => {
    const since = new Date().toISOString();
    const a = await adminCreateKey(gw, { name: 'a', rpm: 6 });
    const b = await adminCreateKey(gw, { name: 'b' });
    const tokens: Record<string, { p: number; c: number; n: number }> = {};
    const SECRET = 'the secret prompt text 7f3a';
    const call = async (key: { id: string; key: string }, model: string, stream: boolean) => {
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: `${SECRET} ${Math.random()}` }],
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      });
      const t = (tokens[key.id] ??= { p: 0, c: 0, n: 0 });
      t.n++;
      const text = await r.text();
      if (r.status !== 200) return r.status;
      const usage = stream
        ? (
            JSON.parse(
              text
                .split('\n')
                .filter((l) => l.startsWith('data: {') && l.includes('"usage":{'))
                .at(-1)!
                .slice(6),
            ) as { usage: { prompt_tokens: number; completion_tokens: number } }
          ).usage
        : (JSON.parse(text) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
      t.p += usage.prompt_tokens;
      t.c += usage.completion_tokens;
      return 200;
    };
    for (let i = 0; i < 4; i++) await call(a, 'tinyllama', i % 2 === 0);
    await call(a, 'llama3.2', false);
    await call(b, 'llama3.2', true);
    await call(b, 'tinyllama', false);
    // Key a has rpm 6: the 7th request is a 429, logged as such with no tokens.
    await call(a, 'tinyllama', false);
    expect(await call(a, 'tinyllama', false)).toBe(429);

    const all = await get(ADMIN_KEY, `since=${since}&group_by=key`);
    expect(all.status).toBe(200);
    const byKey: Record<string, UsageBody['rows'][number]> = Object.fromEntries(
      all.body.rows.map((r) => [String(r.key), r]),
    );
    for (const k of [a, b]) {
      expect(byKey[k.id]).toMatchObject({
        requests: tokens[k.id]!.n,
        prompt_tokens: tokens[k.id]!.p,
        completion_tokens: tokens[k.id]!.c,
      });
    }
    expect(byKey[a.id]!.errors).toBe(1);

    const own = await get(a.key, 'group_by=model');
    expect(own.status).toBe(200);
    expect(own.body.rows.map((r) => [r.model, r.requests])).toEqual([
      ['llama3.2', 1],
      ['tinyllama', 6],
    ]);
    expect((await get(a.key, `key=${b.id}`)).status).toBe(403);
    const day = await get(ADMIN_KEY, 'group_by=day');
    expect(day.body.rows[0]!.day).toBe(new Date().toISOString().slice(0, 10));

    if (engine === 'postgres') {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        const { rows } = await c.query<Record<string, unknown>>(`SELECT * FROM "${schema}".usage_log`);
        expect(rows).toHaveLength(tokens[a.id]!.n + tokens[b.id]!.n);
        expect(rows.every((r) => typeof r.request_id === 'string' && r.latency_ms !== null)).toBe(true);
        expect(JSON.stringify(rows)).not.toContain(SECRET);
      } finally {
        await c.end();
      }
    }
  }, 60_000);
});
