import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../queue/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The real CLI (`sutazai serve …`) in a child process with a clean environment. `stopWhen`: a
 * process that keeps running is stopped `thenMs` after its output satisfies it (or after 30 s).
 */
function serve(
  args: string[],
  env: Record<string, string> = {},
  stop?: { stopWhen: (stdout: string) => boolean; thenMs: number },
): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], {
      cwd: ROOT,
      // Each run its own data dir: a `serve` holds its data dir's lock (issue 23, finding 6).
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmpdir(),
        SUTAZAI_DATA_DIR: mkdtempSync(join(tmpdir(), 'sutazai-startup-')),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer = setTimeout(() => proc.kill('SIGTERM'), 30_000);
    let stopping = false;
    proc.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stop && !stopping && stop.stopWhen(stdout)) {
        stopping = true;
        clearTimeout(timer);
        timer = setTimeout(() => proc.kill('SIGTERM'), stop.thenMs);
      }
    });
    proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; time: number; msg: string });

/** Start-up failures: one or two lines naming the setting, no password, no stack, exit 2. */
function expectClearFailure(r: Run, setting: string) {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
  expect(lines[0]).toContain(setting);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('s3cret');
}

describe('sutazai serve start-up messages', { timeout: 60_000 }, () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
  });

  it('with no model server: one warn line within 2 s naming the upstream and the ways forward', async () => {
    const dead = await freePort();
    // Stopped 3 s after the hint: long enough to see that it is not repeated every check (1 s).
    const r = await serve(
      ['--port', '0', '--upstream', `ollama=http://127.0.0.1:${dead}`],
      {},
      {
        stopWhen: (out) => out.includes('no model server'),
        thenMs: 3000,
      },
    );
    const lines = logLines(r.stdout);
    const listening = lines.find((l) => l.msg.startsWith('SutazAI listening'));
    const hints = lines.filter((l) => l.msg.includes('no model server'));
    expect(listening, r.stdout + r.stderr).toBeDefined();
    expect(hints).toHaveLength(1); // repeats are rate-limited
    const [hint] = hints;
    expect(hint?.level).toBe(40);
    expect(hint!.time - listening!.time).toBeLessThan(2000);
    expect(hint?.msg).toContain(`http://127.0.0.1:${dead}`);
    expect(hint?.msg).toMatch(/start Ollama.*--upstream.*npm run demo/);
  });

  it('a busy port names SUTAZAI_PORT and what to do', async () => {
    const r = await serve(['--port', String(busyPort)]);
    expectClearFailure(r, 'SUTAZAI_PORT');
    expect(r.stderr).toContain('already in use');
  });

  it('an unreachable DATABASE_URL names it with the password masked', async () => {
    const port = await freePort();
    const r = await serve(['--port', '0'], { DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${port}/db` });
    expectClearFailure(r, 'DATABASE_URL');
    expect(r.stderr).toContain(`postgres://app:***@127.0.0.1:${port}/db`);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('an unreachable REDIS_URL names it with the password masked', async () => {
    const port = await freePort();
    const r = await serve(['--port', '0'], { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` });
    expectClearFailure(r, 'REDIS_URL');
    expect(r.stderr).toContain(`redis://:***@127.0.0.1:${port}`);
  });

  it('a bad env value and an unknown flag are named', async () => {
    const bad = await serve([], { SUTAZAI_PORT: 'ten' });
    expectClearFailure(bad, 'invalid configuration');
    expect(bad.stderr).toContain('SUTAZAI_PORT / --port');
    expect(bad.stderr).toContain('"ten"');
    const flag = await serve(['--prot', '1']);
    expectClearFailure(flag, 'invalid configuration');
    expect(flag.stderr).toContain('unknown flag --prot');
    const secret = await serve([], { DATABASE_URL: 'postgres://app:s3cret@' });
    expectClearFailure(secret, 'invalid configuration');
  });

  it('a data dir that cannot be created names SUTAZAI_DATA_DIR', async () => {
    // A path below a regular file: unwritable even for root.
    const file = join(tmpdir(), `sutazai-not-a-dir-${process.pid}`);
    writeFileSync(file, '');
    const r = await serve(['--port', '0', '--data-dir', join(file, 'data')]);
    expectClearFailure(r, 'SUTAZAI_DATA_DIR');
    expect(r.stderr).toContain('is not a directory');
  });

  it('the stack trace appears at debug level only', async () => {
    const r = await serve(['--port', String(busyPort), '--log-level', 'debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SUTAZAI_PORT');
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});
