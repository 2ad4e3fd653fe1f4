import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, dropSchema, MIGRATIONS, type Store, type TaskRecord } from '../../src/store/index.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';

const DATABASE_URL = TEST_DATABASE_URL;
const SCHEMA = `t_store_${process.pid}_${Date.now().toString(36)}`;

const latestVersion = Math.max(...MIGRATIONS.map((m) => m.version));

function record(id: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return { id, type: 'chat', status: 'completed', priority: 5, attempts: 1, createdAt: Date.now(), ...over };
}

const noPg = missing('postgres');
const engines: Array<[string, () => Promise<Store>, boolean]> = [
  [
    'postgres',
    () => createStore({ config: { databaseUrl: DATABASE_URL, dataDir: '.' }, schema: SCHEMA }),
    noPg,
  ],
  ['pglite', () => createStore({ config: { databaseUrl: undefined, dataDir: '.' }, inMemory: true }), false],
];

afterAll(async () => {
  if (!noPg) await dropSchema(DATABASE_URL, SCHEMA);
});

describe.each(engines)('store on %s', (_name, open, skip) => {
  it.skipIf(skip)('migrates at start-up and round-trips a task with result, error and times', async () => {
    const store = await open();
    try {
      expect(await store.migrations()).toEqual(MIGRATIONS.map((m) => m.version));
      const created = Date.parse('2024-01-02T03:04:05.678Z');
      const done = record('a1', {
        result: { response: 'hi', usage: { prompt_tokens: 1, completion_tokens: 2 }, list: [1, 2] },
        createdAt: created,
        startedAt: created + 10,
        finishedAt: created + 20,
      });
      await store.tasks.save(done);
      expect(await store.tasks.get('a1')).toEqual(done);

      const failed = record('a2', {
        status: 'failed',
        attempts: 3,
        error: { code: 'SUTAZAI_ERR_UPSTREAM_BUSY', message: 'busy' },
        createdAt: created + 1,
      });
      await store.tasks.save(failed);
      expect(await store.tasks.get('a2')).toEqual(failed);
      expect(await store.tasks.get('missing')).toBeUndefined();

      // A later write of the same id replaces the row (idempotent upsert).
      await store.tasks.save({ ...failed, status: 'cancelled', error: { code: 'X', message: 'y' } });
      expect((await store.tasks.get('a2'))?.status).toBe('cancelled');

      const all = await store.tasks.list({ limit: 10 });
      expect(all.map((r) => r.id)).toEqual(['a2', 'a1']);
      expect((await store.tasks.list({ status: 'completed', limit: 10 })).map((r) => r.id)).toEqual(['a1']);
      expect(await store.tasks.list({ limit: 1 })).toHaveLength(1);

      expect(await store.tasks.deleteFinishedBefore(created + 21)).toBe(1);
      expect(await store.tasks.get('a1')).toBeUndefined();

      await store.ping();
      expect(store.poolStats().total).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
  });

  it.skipIf(skip)('a result that is a JSON string or array survives as such', async () => {
    const store = await open();
    try {
      await store.tasks.save(record('s1', { result: 'plain' }));
      await store.tasks.save(record('s2', { result: [[0.1, 0.2]] }));
      expect((await store.tasks.get('s1'))?.result).toBe('plain');
      expect((await store.tasks.get('s2'))?.result).toEqual([[0.1, 0.2]]);
    } finally {
      await store.close();
    }
  });
});

describe('migrations', () => {
  it.skipIf(noPg)('run once when several processes open the same PostgreSQL schema together', async () => {
    const schema = `${SCHEMA}_m`;
    const open = () => createStore({ config: { databaseUrl: DATABASE_URL, dataDir: '.' }, schema });
    try {
      const stores = await Promise.all([open(), open(), open()]);
      for (const s of stores) expect(await s.migrations()).toContain(latestVersion);
      await Promise.all(stores.map((s) => s.close()));
      const again = await open();
      expect(await again.migrations()).toEqual(MIGRATIONS.map((m) => m.version));
      await again.close();
    } finally {
      await dropSchema(DATABASE_URL, schema);
    }
  });

  it.skipIf(noPg)('takes the schema from ?schema= in the database URL', async () => {
    const schema = `${SCHEMA}_u`;
    try {
      const store = await createStore({
        config: { databaseUrl: `${DATABASE_URL}?schema=${schema}`, dataDir: '.' },
      });
      await store.tasks.save(record('u1'));
      await store.close();
      const direct = await createStore({ config: { databaseUrl: DATABASE_URL, dataDir: '.' }, schema });
      expect((await direct.tasks.get('u1'))?.id).toBe('u1');
      await direct.close();
    } finally {
      await dropSchema(`${DATABASE_URL}?schema=${schema}`, schema);
    }
  });

  it('PGlite keeps data in <dataDir>/pglite across reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sutazai-store-'));
    try {
      const first = await createStore({ config: { databaseUrl: undefined, dataDir: dir } });
      expect(first.driver).toBe('pglite');
      expect(first.shared).toBe(false);
      await first.tasks.save(record('p1', { result: { ok: true } }));
      await first.close();
      const second = await createStore({ config: { databaseUrl: undefined, dataDir: dir } });
      expect((await second.tasks.get('p1'))?.result).toEqual({ ok: true });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails start-up when PostgreSQL is unreachable', async () => {
    await expect(
      createStore({
        config: { databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '.' },
        schema: 'x',
      }),
    ).rejects.toThrow();
  });
});
