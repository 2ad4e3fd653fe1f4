/**
 * Decides, once per test run, where the suite's Redis, PostgreSQL and Chromium come from:
 * given (TEST_REDIS_URL / TEST_DATABASE_URL), already answering on the default port, started here
 * from the installed binaries (temporary data dir, free port), or missing — then the tests that
 * need it are skipped with one line saying which Debian package enables them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServiceName = 'redis' | 'redisServer' | 'postgres' | 'chromium';

export interface Provisioned {
  /** Env for the test workers: TEST_REDIS_URL, TEST_DATABASE_URL, SUTAZAI_TEST_* . */
  env: Record<string, string>;
  /** One line per missing service: what is skipped and how to enable it. */
  skipped: string[];
  /** How each service was found ("given", "running", "started", "missing"). */
  how: Record<ServiceName, string>;
  stop(): Promise<void>;
}

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';

/** A binary counts only if it runs (a path that exists may still be unusable). */
function runs(bin: string, args = ['--version']): boolean {
  try {
    execFileSync(bin, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...extraDirs].filter(Boolean);
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p) && runs(p)) return p;
  }
  return undefined;
}

function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function until(
  what: string,
  ms: number,
  ok: () => Promise<boolean>,
  child: ChildProcess,
  log: () => string,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${log()}`);
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start within ${ms} ms:\n${log()}`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

async function startRedis(bin: string, dir: string) {
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  await until(
    'redis-server',
    10_000,
    async () => out.includes('Ready to accept connections'),
    child,
    () => out,
  );
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child, 'SIGTERM') };
}

/** PostgreSQL refuses to run as root: when we are root, initdb and postgres run as this user. */
function unprivilegedUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid), name };
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run PostgreSQL');
}

function pgBinDirs(): string[] {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(base, v, 'bin'));
}

async function startPostgres(bins: { initdb: string; postgres: string }, dir: string) {
  const user = unprivilegedUser();
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  try {
    execFileSync(bins.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      ...as,
      stdio: 'pipe',
      env: { ...process.env, HOME: dir, LC_ALL: 'C' },
    });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(
      `initdb failed${user ? ` (as ${user.name})` : ''}: ${e.stderr?.toString().trim() || e.message}`,
    );
  }
  const port = await freePort();
  // Durability settings off: this instance lives for one test run.
  const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off'];
  args.push('-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200');
  const child = spawn(bins.postgres, args, {
    ...as,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  await until(
    'postgres',
    20_000,
    async () => out.includes('ready to accept connections'),
    child,
    () => out,
  );
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await c.connect();
  await c.query('CREATE DATABASE test');
  await c.end();
  // SIGINT = PostgreSQL's "fast" shutdown.
  return { url: `postgres://postgres@127.0.0.1:${port}/test`, stop: () => stopChild(child, 'SIGINT') };
}

async function findChromium(): Promise<string | undefined> {
  const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  try {
    const { chromium } = await import('playwright-core');
    candidates.push(chromium.executablePath());
  } catch {
    // playwright-core knows no path for this platform: only the Debian package remains.
  }
  return candidates.find((p) => existsSync(p) && runs(p, ['--headless', '--no-sandbox', '--version']));
}

export async function provision(): Promise<Provisioned> {
  const env: Record<string, string> = {};
  const skipped: string[] = [];
  const how = {} as Record<ServiceName, string>;
  const stops: Array<() => Promise<void>> = [];
  const dir = mkdtempSync(join(tmpdir(), 'sutazai-services-'));

  try {
    const redisBin = findOnPath('redis-server');
    how.redisServer = redisBin ? 'installed' : 'missing';
    if (redisBin) env.SUTAZAI_TEST_REDIS_SERVER = redisBin;
    else
      skipped.push(
        'tests that start and kill their own Redis: no redis-server binary (Debian: apt-get install redis-server)',
      );

    if (process.env.TEST_REDIS_URL) {
      env.TEST_REDIS_URL = process.env.TEST_REDIS_URL;
      how.redis = 'given';
    } else if (await portAnswers(6379)) {
      env.TEST_REDIS_URL = DEFAULT_REDIS;
      how.redis = 'running';
    } else if (redisBin) {
      const r = await startRedis(redisBin, dir);
      stops.push(r.stop);
      env.TEST_REDIS_URL = r.url;
      how.redis = 'started';
    } else {
      how.redis = 'missing';
      skipped.push(
        'tests that need Redis: nothing on 127.0.0.1:6379, TEST_REDIS_URL unset and no redis-server binary (Debian: apt-get install redis-server)',
      );
    }

    if (process.env.TEST_DATABASE_URL) {
      env.TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
      how.postgres = 'given';
    } else if (await portAnswers(5432)) {
      env.TEST_DATABASE_URL = DEFAULT_PG;
      how.postgres = 'running';
    } else {
      const extra = pgBinDirs();
      const initdb = findOnPath('initdb', extra);
      const postgres = findOnPath('postgres', extra);
      if (initdb && postgres) {
        // Its own temp dir: the unprivileged user it may run as cannot enter `dir` (mode 0700).
        const pgDir = mkdtempSync(join(tmpdir(), 'sutazai-pg-'));
        stops.push(async () => rmSync(pgDir, { recursive: true, force: true }));
        const p = await startPostgres({ initdb, postgres }, pgDir);
        stops.push(p.stop);
        env.TEST_DATABASE_URL = p.url;
        how.postgres = 'started';
      } else {
        how.postgres = 'missing';
        skipped.push(
          'tests that need PostgreSQL: nothing on 127.0.0.1:5432, TEST_DATABASE_URL unset and no initdb/postgres binaries (Debian: apt-get install postgresql)',
        );
      }
    }

    const chromium = await findChromium();
    how.chromium = chromium ? 'installed' : 'missing';
    if (chromium) env.SUTAZAI_TEST_CHROMIUM = chromium;
    else
      skipped.push(
        "browser tests: no Chromium at /usr/bin/chromium or in Playwright's cache (Debian: apt-get install chromium)",
      );
  } catch (err) {
    for (const s of stops.reverse()) await s();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    env,
    skipped,
    how,
    async stop() {
      for (const s of stops.reverse()) await s();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
