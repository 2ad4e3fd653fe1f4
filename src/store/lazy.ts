import type { KeyRepository } from './keys.js';
import type { Store, TaskRepository } from './types.js';
import type { UsageRepository } from './usage.js';

/** A store opened on first use, and whether that has happened yet. */
export interface LazyStore extends Store {
  readonly opened: boolean;
}

/**
 * Defer opening a store until something needs it. Used for embedded PGlite, whose start takes
 * seconds (much longer on first run, when it creates the database): a gateway that never runs a
 * task never pays for it, and start-up is not held up. A failure to open surfaces on first use
 * (and in the next call again: a failed open is retried).
 */
export function lazyStore(open: () => Promise<Store>, info: Pick<Store, 'driver' | 'shared'>): LazyStore {
  let opening: Promise<Store> | undefined;
  let store: Store | undefined;
  let closed = false;
  const get = (): Promise<Store> => {
    if (closed) return Promise.reject(new Error('store is closed'));
    opening ??= open().then(
      (s) => (store = s),
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };
  const tasks: TaskRepository = {
    save: async (r) => (await get()).tasks.save(r),
    get: async (id) => (await get()).tasks.get(id),
    list: async (q) => (await get()).tasks.list(q),
    enqueue: async (t, owner) => (await get()).tasks.enqueue(t, owner),
    unqueue: async (id) => (await get()).tasks.unqueue(id),
    listQueued: async (b, l) => (await get()).tasks.listQueued(b, l),
    deleteFinishedBefore: async (t) => (await get()).tasks.deleteFinishedBefore(t),
  };
  const keys: KeyRepository = {
    create: async (r) => (await get()).keys.create(r),
    get: async (id) => (await get()).keys.get(id),
    list: async () => (await get()).keys.list(),
    update: async (id, p) => (await get()).keys.update(id, p),
    revoke: async (id) => (await get()).keys.revoke(id),
  };
  const usage: UsageRepository = {
    insertMany: async (rows) => (await get()).usage.insertMany(rows),
    aggregate: async (q) => (await get()).usage.aggregate(q),
  };
  return {
    ...info,
    tasks,
    keys,
    usage,
    get opened() {
      return store !== undefined;
    },
    migrations: async () => (await get()).migrations(),
    ping: async () => (await get()).ping(),
    poolStats: () => store?.poolStats() ?? { total: 0, idle: 0, waiting: 0 },
    async close() {
      closed = true;
      const s = await opening?.catch(() => undefined);
      await s?.close();
    },
  };
}
