import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { lockDataDir, type DataDirLock } from './data-dir.js';
import { checkSchemaName, type SqlDriver } from './driver.js';
import { migrate } from './migrations.js';
import { createPgDriver } from './pg-driver.js';
import { createPgliteDriver } from './pglite-driver.js';
import { lazyStore, type LazyStore } from './lazy.js';
import { createKeyRepository } from './keys.js';
import { createTaskRepository } from './tasks.js';
import { createUsageRepository } from './usage.js';
import type { Store } from './types.js';

export interface StoreOptions {
  config: Pick<Config, 'databaseUrl' | 'dataDir'>;
  /**
   * PostgreSQL schema holding the tables (created if missing). Default: the `schema` query
   * parameter of the database URL (`postgres://…/db?schema=sutazai`), else "public".
   */
  schema?: string;
  /** PGlite only: keep the database in memory instead of `<dataDir>/pglite` (tests). Default false. */
  inMemory?: boolean;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
}

/**
 * Open the SQL store: PostgreSQL when `databaseUrl` is set, otherwise embedded PGlite in
 * `<dataDir>/pglite`. Migrations run before this resolves, so a broken database fails start-up.
 */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const { url, urlSchema } = splitSchema(opts.config.databaseUrl);
  const schema = checkSchemaName(opts.schema ?? urlSchema ?? 'public');
  let driver: SqlDriver;
  // The embedded database is one process's: hold the data dir's lock while it is open (finding 6).
  let lock: DataDirLock | undefined;
  if (url !== undefined) {
    driver = createPgDriver({
      connectionString: url,
      schema,
      ...(opts.poolSize ? { max: opts.poolSize } : {}),
    });
  } else {
    if (!opts.inMemory) lock = lockDataDir(opts.config.dataDir);
    try {
      driver = await createPgliteDriver({
        schema,
        ...(opts.inMemory ? {} : { dir: join(opts.config.dataDir, 'pglite') }),
      });
    } catch (err) {
      lock?.release();
      throw err;
    }
  }
  try {
    await migrate(driver, schema);
  } catch (err) {
    await driver.close();
    lock?.release();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    driver: driver.name,
    shared: driver.name === 'postgres',
    tasks: createTaskRepository(driver),
    keys: createKeyRepository(driver),
    usage: createUsageRepository(driver),
    async migrations() {
      const rows = await driver.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      return rows.map((r) => r.version);
    },
    async ping() {
      await driver.query('SELECT 1');
    },
    poolStats: () => driver.stats(),
    close() {
      closed ??= driver.close().finally(() => lock?.release());
      return closed;
    },
  };
}

/**
 * The store as the gateway opens it: PostgreSQL at once (so a bad DATABASE_URL fails start-up),
 * embedded PGlite on first use (see lazyStore).
 */
export async function openStore(opts: StoreOptions): Promise<LazyStore> {
  if (opts.config.databaseUrl !== undefined) {
    const store = await createStore(opts);
    return Object.assign(store, { opened: true });
  }
  return lazyStore(() => createStore(opts), { driver: 'pglite', shared: false });
}

/** `?schema=` is ours, not libpq's: take it out of the URL before pg sees it. */
function splitSchema(databaseUrl: string | undefined): { url?: string; urlSchema?: string } {
  if (databaseUrl === undefined) return {};
  const u = new URL(databaseUrl);
  const schema = u.searchParams.get('schema');
  if (schema === null) return { url: databaseUrl };
  u.searchParams.delete('schema');
  return { url: u.toString(), urlSchema: schema };
}

/** Drop a schema and everything in it (test clean-up). PostgreSQL only. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const driver = createPgDriver({
    connectionString: splitSchema(databaseUrl).url ?? databaseUrl,
    schema: 'public',
    max: 1,
  });
  try {
    await driver.exec(`DROP SCHEMA IF EXISTS "${checkSchemaName(schema)}" CASCADE`);
  } finally {
    await driver.close();
  }
}
