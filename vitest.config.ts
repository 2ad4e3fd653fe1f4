import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Finds or starts Redis / PostgreSQL and finds Chromium once per run; see test/setup/provision.ts.
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Integration tests start real servers; two cores do not benefit from more than two workers.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
