/**
 * What the test run has (decided once by test/setup/global.ts, passed through the environment).
 * A test that needs a service declares it: `describe.skipIf(missing('redis'))(…)`.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? '';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? '';
/** The redis-server binary, for tests that start and kill their own instance. */
export const REDIS_SERVER = process.env.SUTAZAI_TEST_REDIS_SERVER ?? '';
export const CHROMIUM = process.env.SUTAZAI_TEST_CHROMIUM ?? '';

const have = {
  redis: TEST_REDIS_URL !== '',
  postgres: TEST_DATABASE_URL !== '',
  redisServer: REDIS_SERVER !== '',
  chromium: CHROMIUM !== '',
};

/** True when any of `needs` is unavailable in this run (the global setup already said why). */
export function missing(...needs: Array<keyof typeof have>): boolean {
  return needs.some((n) => !have[n]);
}
