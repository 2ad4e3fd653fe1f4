import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoadtestCli } from '../../src/loadtest/cli.js';
import type { Report } from '../../src/loadtest/report.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  report: Report | undefined;
}

/** Run the CLI in-process with captured output; adds --json so the test can read the report. */
export async function runCli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const dir = mkdtempSync(join(tmpdir(), 'lt-test-'));
  const json = join(dir, 'report.json');
  const io = {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
  };
  const code = await runLoadtestCli([...args, '--json', json, '--quiet'], io);
  const report = await readFile(json, 'utf8').then(
    (t) => JSON.parse(t) as Report,
    () => undefined,
  );
  return { code, stdout, stderr, report };
}

/** Flags that keep a CLI run to about a second. */
export const QUICK = ['--stage-duration', '1s', '--warmup', '0s', '--think', '0', '--no-server-metrics'];
