import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Queryable, SqlDriver } from './driver.js';

export interface PgliteDriverOptions {
  /** Directory for the database files; undefined = in memory (tests). */
  dir?: string;
  schema: string;
}

function wrap(db: PGlite | Transaction): Queryable {
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const res = await db.query<R>(text, params as unknown[]);
      return res.rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/** Embedded PostgreSQL (PGlite, WASM) in this process: one connection, queries run one at a time. */
export async function createPgliteDriver(opts: PgliteDriverOptions): Promise<SqlDriver> {
  if (opts.dir !== undefined) await mkdir(opts.dir, { recursive: true });
  const db = opts.dir === undefined ? new PGlite() : new PGlite(opts.dir);
  await db.waitReady;
  await db.exec(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"; SET search_path TO "${opts.schema}"`);
  const base = wrap(db);
  let busy = 0;
  return {
    name: 'pglite',
    async query<R>(text: string, params?: readonly unknown[]) {
      busy++;
      try {
        return await base.query<R>(text, params);
      } finally {
        busy--;
      }
    },
    exec: base.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    stats: () => ({ total: 1, idle: busy === 0 ? 1 : 0, waiting: Math.max(0, busy - 1) }),
    close: () => db.close(),
  };
}
