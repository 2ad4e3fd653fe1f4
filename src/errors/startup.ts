/**
 * Start-up failures a newcomer can fix: which setting, its value (passwords masked) and what to
 * do. `sutazai` prints `message` and `fix` as two lines and exits non-zero; the stack trace only
 * at debug level (src/cli/main.ts).
 */
export class StartupError extends Error {
  constructor(
    /** e.g. "DATABASE_URL / --database-url" */
    readonly setting: string,
    value: string | number | undefined,
    problem: string,
    /** What to do, one line. */
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}${value === undefined ? '' : `=${maskSecrets(String(value))}`}: ${problem}`, options);
    this.name = 'StartupError';
  }
}

/** A URL's password becomes `***`; anything else is returned unchanged. */
export function maskSecrets(value: string): string {
  // Not URL parsing: the value may be invalid, and must still not leak what looks like a password.
  return value.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/g, '$1***@');
}

/** The message of an error and of its causes, without stack frames or passwords. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 3; e = (e as { cause?: unknown }).cause) {
    const m = e instanceof Error ? e.message || e.name : typeof e === 'string' ? e : '';
    const code = (e as { code?: unknown }).code;
    const aggregate = e instanceof AggregateError ? e.errors.map((x: Error) => x.message).join('; ') : '';
    const text = m || aggregate || (typeof code === 'string' ? code : '');
    if (text && !parts.includes(text)) parts.push(text);
  }
  return maskSecrets(parts.join(': ') || 'unknown error');
}

const DB = 'DATABASE_URL / --database-url';
const REDIS = 'REDIS_URL / --redis-url';

/** PostgreSQL did not open (unreachable, wrong credentials, missing database, failed migration). */
export function databaseError(err: unknown, url: string | undefined): StartupError {
  return new StartupError(
    DB,
    url,
    `PostgreSQL did not open: ${describeError(err)}`,
    'start PostgreSQL there or fix the URL (postgres://user:password@host:5432/db); unset it to use embedded storage in the data dir',
    { cause: err },
  );
}

/** Redis (task queue) did not answer at start. */
export function redisError(err: unknown, url: string | undefined): StartupError {
  return new StartupError(
    REDIS,
    url,
    `Redis did not answer: ${describeError(err)}`,
    'start Redis there (redis-server) or fix the URL (redis://host:6379); unset it to keep the cache and task queue in-process',
    { cause: err },
  );
}
