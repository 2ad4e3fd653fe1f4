import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, dropSchema, type Store, type TaskRecord } from '../../src/store/index.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';

// Issue 23, finding 5: a NUL character in a task id → 500; a NUL in a task's error text was not
// stored in PostgreSQL (jsonb refuses \u0000), so the result was lost.

const SCHEMA = `t_nul_${process.pid}_${Date.now().toString(36)}`;

describe('finding 5: task ids are validated', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await s.close();
  });
  it.each(['%00abc', 'a%00', 'x$y', 'a%20b'])('GET /api/v1/tasks/%s → 400 naming the id', async (id) => {
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${s.gw.url}/api/v1/tasks/${id}`, { method });
      expect(r.status).toBe(400);
      const body = (await r.json()) as { error: { message: string; param?: string } };
      expect(body.error.message).toMatch(/task id/);
    }
    const events = await fetch(`${s.gw.url}/api/v1/tasks/${id}/events`);
    expect(events.status).toBe(400);
  });
  it('an ordinary unknown id is still a 404', async () => {
    const r = await fetch(`${s.gw.url}/api/v1/tasks/0b5e1c9e-6a52-4f7e-9a4e-2f1d2c3b4a59`);
    expect(r.status).toBe(404);
  });
});

const engines: Array<[string, () => Promise<Store>, boolean]> = [
  [
    'postgres',
    () => createStore({ config: { databaseUrl: TEST_DATABASE_URL, dataDir: '.' }, schema: SCHEMA }),
    missing('postgres'),
  ],
  ['pglite', () => createStore({ config: { databaseUrl: undefined, dataDir: '.' }, inMemory: true }), false],
];

describe.each(engines)('finding 5: error text with NUL is stored on %s', (name, open, skip) => {
  afterAll(async () => {
    if (name === 'postgres' && !skip) await dropSchema(TEST_DATABASE_URL, SCHEMA);
  });
  it.skipIf(skip)('keeps the outcome, with U+FFFD for each NUL', async () => {
    const store = await open();
    try {
      const failed: TaskRecord = {
        id: 'nul-1',
        type: 'chat',
        status: 'failed',
        priority: 5,
        attempts: 3,
        createdAt: Date.parse('2024-01-02T03:04:05.678Z'),
        error: { code: 'SUTAZAI_ERR_UPSTREAM_ERROR', message: 'upstream said \u0000bad\u0000' },
        result: { response: 'a\u0000b', literal: 'a backslash-u0000 stays: \\u0000' },
      };
      await store.tasks.save(failed);
      const got = await store.tasks.get('nul-1');
      expect(got?.status).toBe('failed');
      expect(got?.error).toEqual({
        code: 'SUTAZAI_ERR_UPSTREAM_ERROR',
        message: 'upstream said \uFFFDbad\uFFFD',
      });
      expect(got?.result).toEqual({ response: 'a\uFFFDb', literal: 'a backslash-u0000 stays: \\u0000' });
    } finally {
      await store.close();
    }
  });
});
