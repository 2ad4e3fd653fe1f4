import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { lazyStore } from '../../src/store/lazy.js';
import type { Store } from '../../src/store/types.js';

describe('embedded store opens on first use', () => {
  it('does not open until used, opens once, closes what it opened', async () => {
    let opens = 0;
    let closes = 0;
    const inner = {
      driver: 'pglite',
      shared: false,
      tasks: {
        save: async () => undefined,
        get: async () => undefined,
        list: async () => [],
        enqueue: async () => undefined,
        unqueue: async () => undefined,
        listQueued: async () => [],
        deleteFinishedBefore: async () => 0,
      },
      keys: {
        create: async () => undefined,
        get: async () => undefined,
        list: async () => [],
        update: async () => undefined,
        revoke: async () => undefined,
      },
      usage: { insertMany: async () => undefined, aggregate: async () => [] },
      migrations: async () => [1],
      ping: async () => undefined,
      poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
      close: async () => {
        closes++;
      },
    } satisfies Store;
    const store = lazyStore(async () => {
      opens++;
      return inner;
    }, inner);
    expect(store.opened).toBe(false);
    expect(store.poolStats()).toEqual({ total: 0, idle: 0, waiting: 0 });
    await Promise.all([store.tasks.get('a'), store.ping(), store.tasks.list({ limit: 1 })]);
    expect(opens).toBe(1);
    expect(store.opened).toBe(true);
    await store.close();
    expect(closes).toBe(1);
    await expect(store.tasks.get('a')).rejects.toThrow(/closed/);
  });

  it('retries an open that failed', async () => {
    let attempt = 0;
    const store = lazyStore(
      async () => {
        attempt++;
        if (attempt === 1) throw new Error('disk full');
        return { ping: async () => undefined, close: async () => undefined } as unknown as Store;
      },
      { driver: 'pglite', shared: false },
    );
    await expect(store.ping()).rejects.toThrow('disk full');
    await store.ping();
    expect(attempt).toBe(2);
    await store.close();
  });

  it('openStore is lazy for PGlite (no DATABASE_URL) and closing an unopened store is cheap', async () => {
    const store = await openStore({
      config: { databaseUrl: undefined, dataDir: '/nonexistent/never-created' },
    });
    expect(store).toMatchObject({ driver: 'pglite', shared: false, opened: false });
    await store.close();
  });
});
