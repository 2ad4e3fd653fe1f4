import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/store.js';
import { freePort, spawnTs, stop, type Child } from '../queue/processes.js';

// Issue 23, finding 6: two gateways started on one embedded data directory; PGlite aborted and 4
// of 6 task results were lost. The directory is locked now: the second process refuses to start,
// naming the directory and the process holding it; a lock left by a dead process is taken over.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await stop(c);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sutazai-f06-'));
  dirs.push(d);
  return d;
}

async function serve(dataDir: string): Promise<Child> {
  const port = await freePort();
  const child = await spawnTs('src/cli/main.ts', ['serve', '--port', String(port)], 'listening', {
    SUTAZAI_DATA_DIR: dataDir,
    DATABASE_URL: '',
    REDIS_URL: '',
  });
  children.push(child);
  return child;
}

/** `sutazai serve` expected to fail: its exit code and everything it printed. */
function serveToExit(dataDir: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SUTAZAI_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => proc.kill('SIGTERM'), 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('finding 6: one process per embedded data directory', () => {
  it('a second serve on the same data dir refuses to start, naming the dir and the holder', async () => {
    const dir = tempDir();
    const first = await serve(dir);
    const pid = first.proc.pid ?? -1;
    const second = await serveToExit(dir);
    expect(second.code).not.toBe(0);
    expect(second.out).toContain(dir);
    expect(second.out).toContain(`process ${pid}`);
    expect(second.out).toMatch(/SUTAZAI_DATA_DIR/);
    // The first is untouched and still holds the lock; stopping it releases the directory.
    expect(first.proc.exitCode).toBeNull();
    await stop(first);
    expect(existsSync(join(dir, 'sutazai.lock'))).toBe(false);
  }, 60_000);

  it('the embedded store refuses a directory another live process holds', async () => {
    const dir = tempDir();
    const holder = await serve(dir);
    await expect(createStore({ config: { databaseUrl: undefined, dataDir: dir } })).rejects.toThrow(
      new RegExp(`in use by process ${holder.proc.pid}`),
    );
  }, 60_000);

  it('a lock left by a process that died is taken over', async () => {
    const dir = tempDir();
    // A pid that certainly is not running any more: a process that has already exited.
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(
      join(dir, 'sutazai.lock'),
      JSON.stringify({ pid: Number(dead), host: hostname(), since: '2026-01-01T00:00:00Z' }),
    );
    const child = await serve(dir);
    const lock = JSON.parse(readFileSync(join(dir, 'sutazai.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(child.proc.pid);
  }, 60_000);
});
