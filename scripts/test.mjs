#!/usr/bin/env node
// Runs Vitest, then prints what was skipped and why, and one final line
// `N passed, N failed, N skipped` (CI reads it). With SUTAZAI_TEST_REQUIRE_ALL=1 a skip is a failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'sutazai-test-'));
const out = join(dir, 'vitest.json');
const skipFile = join(dir, 'skipped.txt');
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const child = spawn('npx', args, {
  stdio: 'inherit',
  env: { ...process.env, SUTAZAI_TEST_SKIP_FILE: skipFile },
});
child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    passed = r.numPassedTests ?? 0;
    skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    failed = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
    // A suite that failed to load has no tests but is still a failure.
    for (const s of r.testResults ?? [])
      if (s.status === 'failed' && (s.assertionResults ?? []).length === 0) failed += 1;
  } catch {
    failed = Math.max(failed, 1);
  }
  let reasons = '';
  try {
    reasons = readFileSync(skipFile, 'utf8');
  } catch {
    // nothing was skipped for a missing service
  }
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0 && failed === 0) failed = 1;
  let exit = code ?? (signal ? 1 : 0);
  if (reasons) process.stdout.write(`\n${reasons.trimEnd().replace(/^/gm, 'skipped ')}\n`);
  if (skipped > 0 && process.env.SUTAZAI_TEST_REQUIRE_ALL === '1') {
    process.stdout.write(`SUTAZAI_TEST_REQUIRE_ALL=1: ${skipped} skipped tests count as failures\n`);
    failed += skipped;
    exit = 1;
  }
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exit(exit);
});
