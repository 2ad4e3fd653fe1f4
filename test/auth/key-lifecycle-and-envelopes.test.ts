import { createHash } from 'node:crypto';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import type { TestGateway } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.js';
import { ADMIN_KEY, adminCreateKey, chatBody, startTestGateway, storeSettings } from './helpers.js';

/**
 * Key lifecycle on each store: create → use → revoke → 401 on every gateway process. PostgreSQL
 * runs two gateways sharing the store and Redis (the revocation is announced over pub/sub);
 * PGlite is one process's own store. Errors come in each surface's envelope, and the unmodified
 * official clients raise their own error classes.
 */
const REVOCATION_WINDOW_MS = 1000;

describe.each(['postgres', 'pglite'] as const)('API keys on %s', (engine) => {
  let sim: SimHandle;
  let gws: TestGateway[] = [];
  let schema: string | undefined;

  beforeAll(async () => {
    if (engine === 'postgres')
      expect(missing('postgres', 'redis'), 'PostgreSQL and Redis are needed').toBe(false);
    sim = await startSimulator({ port: 0, models: ['tinyllama', 'llama3.2'], tps: 0 });
    const st = await storeSettings(engine, 'auth');
    schema = st.schema;
    const common = {
      upstreams: [`ollama=${sim.url}`],
      authMode: 'on',
      adminKey: ADMIN_KEY,
      cacheMode: 'off',
      ...st.overrides,
    };
    if (engine === 'postgres') {
      const redis = { redisUrl: TEST_REDIS_URL, cachePrefix: `t-auth-${process.pid}:` };
      gws = [
        await startTestGateway({ ...common, ...redis }),
        await startTestGateway({ ...common, ...redis }),
      ];
    } else {
      gws = [await startTestGateway({ ...common, keyCacheMs: 1000 })];
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.close()));
    await sim?.close();
    if (schema) await dropSchema(TEST_DATABASE_URL, schema);
  });

  it('refuses a missing or unknown key with 401 in each surface envelope', async () => {
    const url = gws[0]!.url;
    const v1 = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hi', model: 'tinyllama' }),
    });
    expect(v1.status).toBe(401);
    expect(((await v1.json()) as { error: { code: string } }).error.code).toBe('SUTAZAI_ERR_UNAUTHORIZED');

    const openai = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: 'sk-sutazai-000000000000-' + 'x'.repeat(43),
      maxRetries: 0,
    });
    const err = await openai.chat.completions
      .create({ model: 'tinyllama', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');

    const ollama = new Ollama({ host: url });
    const oerr = (await ollama
      .chat({ model: 'tinyllama', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(oerr.status_code).toBe(401);
    expect(oerr.error).toMatch(/missing API key/);

    // Probes stay public.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 120_000); // the first request opens the embedded store (slow on a busy machine)

  it('create → use on every process → revoke → 401 on every process within the window', async () => {
    const created = await adminCreateKey(gws[0]!, { name: 'team a', models: ['tinyllama'] });
    expect(created.key).toMatch(/^sk-sutazai-[0-9a-f]{12}-/);

    if (engine === 'postgres') {
      // Only a hash is stored: no column of the row holds the key.
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        const { rows } = await c.query<{ key_hash: string }>(
          `SELECT * FROM "${schema}".api_keys WHERE id = $1`,
          [created.id],
        );
        expect(rows).toHaveLength(1);
        expect(rows[0]?.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
        expect(JSON.stringify(rows[0])).not.toContain(created.key.slice(24));
      } finally {
        await c.end();
      }
    }

    for (const gw of gws) {
      const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: created.key, maxRetries: 0 });
      const r = await openai.chat.completions.create({
        model: 'tinyllama',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(r.choices[0]?.message.content).toBeTruthy();
      // A model outside the key's list: 403 → PermissionDeniedError.
      const denied = await openai.chat.completions
        .create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
      const ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${created.key}` } });
      expect(
        (await ollama.chat({ model: 'tinyllama', messages: [{ role: 'user', content: 'hi' }] })).message
          .content,
      ).toBeTruthy();
      const o403 = (await ollama
        .chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e)) as {
        status_code: number;
      };
      expect(o403.status_code).toBe(403);
      // x-api-key works too; an admin route with a user key is 403 in the v1 envelope.
      const chat = await fetch(`${gw.url}/api/v1/chat`, {
        method: 'POST',
        headers: { 'x-api-key': created.key, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hi', model: 'tinyllama' }),
      });
      expect(chat.status).toBe(200);
      const settings = await fetch(`${gw.url}/api/v1/settings`, { headers: { 'x-api-key': created.key } });
      expect(settings.status).toBe(403);
      expect(((await settings.json()) as { error: { code: string } }).error.code).toBe(
        'SUTAZAI_ERR_FORBIDDEN',
      );
    }

    const revokedAt = Date.now();
    const del = await fetch(`${gws[0]!.url}/api/v1/admin/keys/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(((await del.json()) as { status: string }).status).toBe('revoked');
    const lastOk = await Promise.all(
      gws.map(async (gw) => {
        let last = revokedAt;
        for (;;) {
          const r = await fetch(`${gw.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
            body: chatBody(),
          });
          if (r.status === 401) return Date.now() - revokedAt;
          expect(r.status).toBe(200);
          last = Date.now();
          if (last - revokedAt > 10_000) return Infinity;
          await new Promise((res) => setTimeout(res, 20));
        }
      }),
    );
    for (const ms of lastOk) expect(ms).toBeLessThan(REVOCATION_WINDOW_MS);

    // The list shows no secrets.
    const list = await fetch(`${gws.at(-1)!.url}/api/v1/admin/keys`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await list.text();
    expect(text).toContain(created.id);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain('key_hash');
  }, 60_000);
});
