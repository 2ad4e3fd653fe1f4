import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, dropSchema, MIGRATIONS, type Store } from '../../src/store/index.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';

const run = promisify(execFile);
const SCHEMA = `t_keys_${process.pid}_${Date.now().toString(36)}`;
const RACE_SCHEMA = `${SCHEMA}_race`;
const noPg = missing('postgres');
const versions = MIGRATIONS.map((m) => m.version);

const engines: Array<[string, () => Promise<Store>]> = [
  [
    'postgres',
    () => createStore({ config: { databaseUrl: TEST_DATABASE_URL, dataDir: '.' }, schema: SCHEMA }),
  ],
  ['pglite', () => createStore({ config: { databaseUrl: undefined, dataDir: '.' }, inMemory: true })],
];

afterAll(async () => {
  if (noPg) return;
  await dropSchema(TEST_DATABASE_URL, SCHEMA);
  await dropSchema(TEST_DATABASE_URL, RACE_SCHEMA);
});

describe.each(engines)('keys and usage tables on %s', (name, open) => {
  it('migrates from empty and keeps only the hash of a key', async () => {
    if (name === 'postgres') expect(noPg, 'PostgreSQL is needed (see test/setup)').toBe(false);
    const store = await open();
    try {
      expect(await store.migrations()).toEqual(versions);
      await store.keys.create({
        id: 'k1',
        name: 'team a',
        keyHash: 'ab'.repeat(32),
        rpm: 10,
        models: ['tinyllama'],
        metadata: { team: 'a' },
        createdAt: Date.parse('2025-01-01T00:00:00Z'),
      });
      const got = await store.keys.get('k1');
      expect(got).toMatchObject({ id: 'k1', rpm: 10, models: ['tinyllama'], metadata: { team: 'a' } });
      expect(got?.tpm).toBeUndefined();
      const upd = await store.keys.update('k1', { tpm: 500, rpm: null, name: 'team A' });
      expect(upd).toMatchObject({ tpm: 500, name: 'team A' });
      expect(upd?.rpm).toBeUndefined();
      expect((await store.keys.revoke('k1'))?.revokedAt).toBeTypeOf('number');
      expect(await store.keys.revoke('nope')).toBeUndefined();
      expect((await store.keys.list()).map((k) => k.id)).toEqual(['k1']);

      const t0 = Date.parse('2025-02-01T10:00:00Z');
      const row = (i: number, key: string, model: string) => ({
        at: t0 + i * 3_600_000,
        keyId: key,
        surface: 'openai',
        model,
        upstream: 'ollama@x',
        status: i === 2 ? 429 : 200,
        promptTokens: 10,
        completionTokens: 5,
        latencyMs: 12.5,
        ttftMs: 3,
        cache: i === 1 ? 'hit-l1' : 'miss',
        requestId: `r${i}`,
      });
      await store.usage.insertMany([row(0, 'k1', 'a'), row(1, 'k1', 'b'), row(2, 'k2', 'a')]);
      const all = await store.usage.aggregate({});
      expect(all).toEqual([
        {
          requests: 3,
          errors: 1,
          cacheHits: 1,
          promptTokens: 30,
          completionTokens: 15,
          avgLatencyMs: 12.5,
          avgTtftMs: 3,
        },
      ]);
      const byModel = await store.usage.aggregate({ groupBy: 'model', keyId: 'k1' });
      expect(byModel.map((r) => [r.group, r.requests])).toEqual([
        ['a', 1],
        ['b', 1],
      ]);
      const since = await store.usage.aggregate({ since: t0 + 1, until: t0 + 3 * 3_600_000, groupBy: 'key' });
      expect(since.map((r) => [r.group, r.requests])).toEqual([
        ['k1', 1],
        ['k2', 1],
      ]);
      expect((await store.usage.aggregate({ groupBy: 'day' }))[0]).toMatchObject({ group: '2025-02-01' });

      // Tasks carry their owner and list by it.
      await store.tasks.save({
        id: 't1',
        type: 'chat',
        status: 'queued',
        priority: 5,
        attempts: 0,
        createdAt: t0,
        owner: 'k1',
      });
      await store.tasks.save({
        id: 't2',
        type: 'chat',
        status: 'queued',
        priority: 5,
        attempts: 0,
        createdAt: t0 + 1,
      });
      expect((await store.tasks.list({ limit: 10, owner: 'k1' })).map((t) => t.id)).toEqual(['t1']);
      expect((await store.tasks.get('t1'))?.owner).toBe('k1');
      expect((await store.tasks.list({ limit: 10 })).length).toBe(2);
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('migrations with two processes starting at once (PostgreSQL)', () => {
  it('both processes start and every migration is applied exactly once', async () => {
    expect(noPg, 'PostgreSQL is needed (see test/setup)').toBe(false);
    const child = () =>
      run(
        process.execPath,
        ['--import', 'tsx', 'test/store/fixtures/open-store.ts', TEST_DATABASE_URL, RACE_SCHEMA],
        {
          timeout: 60_000,
        },
      );
    const [a, b] = await Promise.all([child(), child()]);
    expect(JSON.parse(a.stdout)).toEqual(versions);
    expect(JSON.parse(b.stdout)).toEqual(versions);
    const store = await createStore({
      config: { databaseUrl: TEST_DATABASE_URL, dataDir: '.' },
      schema: RACE_SCHEMA,
    });
    try {
      expect(await store.migrations()).toEqual(versions);
    } finally {
      await store.close();
    }
  }, 90_000);
});
