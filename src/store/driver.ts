/** What the repositories need from a SQL connection; PostgreSQL (pg) and PGlite implement it. */
export interface Queryable {
  /** One parameterised statement. */
  query: <R>(text: string, params?: readonly unknown[]) => Promise<R[]>;
  /** Several statements without parameters (migrations). */
  exec: (sql: string) => Promise<void>;
}

export interface SqlDriver extends Queryable {
  readonly name: 'postgres' | 'pglite';
  /** Run `fn` in one transaction on one connection; rolled back if it throws. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  stats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validate a schema name so it can be written into SQL unquoted-safe (then quoted anyway). */
export function checkSchemaName(schema: string): string {
  if (!IDENT.test(schema)) {
    throw new Error(`store schema "${schema}" must match ${IDENT.source}`);
  }
  return schema;
}
