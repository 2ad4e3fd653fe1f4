/**
 * Vitest globalSetup: provisions Redis / PostgreSQL / Chromium once for the run (see provision.ts)
 * and hands the decisions to the test workers through the environment they inherit.
 * SUTAZAI_TEST_REQUIRE_ALL=1 (CI) turns a missing service into a failure instead of a skip.
 */
import { appendFileSync } from 'node:fs';
import { provision, type Provisioned } from './provision.js';

let running: Provisioned | undefined;

export async function setup(): Promise<void> {
  running = await provision();
  Object.assign(process.env, running.env);
  process.env.SUTAZAI_TEST_SKIPPED = running.skipped.join('\n');
  const started = Object.entries(running.how).filter(([, h]) => h === 'started');
  if (started.length)
    process.stdout.write(`test services: started ${started.map(([n]) => n).join(', ')} for this run\n`);
  for (const line of running.skipped) process.stdout.write(`skipping ${line}\n`);
  // scripts/test.mjs repeats these lines above its final count.
  const file = process.env.SUTAZAI_TEST_SKIP_FILE;
  if (file && running.skipped.length) appendFileSync(file, running.skipped.map((l) => `${l}\n`).join(''));
  if (process.env.SUTAZAI_TEST_REQUIRE_ALL === '1' && running.skipped.length) {
    await running.stop();
    throw new Error(`SUTAZAI_TEST_REQUIRE_ALL=1 but:\n${running.skipped.join('\n')}`);
  }
}

export async function teardown(): Promise<void> {
  await running?.stop();
}
