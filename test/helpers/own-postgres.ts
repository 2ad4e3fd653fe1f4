/**
 * A PostgreSQL server a test owns: initialised once in a temp dir, started and stopped at will on
 * the same port (so a gateway pointed at it sees the database go away and come back). Never the
 * shared test database. Uses the installed initdb/postgres binaries (as the postgres user when
 * running as root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../setup/provision.js';

function bin(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':')];
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) for (const v of readdirSync(base)) dirs.push(join(base, v, 'bin'));
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:') || l.startsWith('nobody:'));
  if (!line) throw new Error('running as root and no postgres/nobody user to run PostgreSQL');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export const havePostgresBinaries = () => bin('initdb') !== undefined && bin('postgres') !== undefined;

export interface OwnPostgres {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function createOwnPostgres(): Promise<OwnPostgres> {
  const initdb = bin('initdb');
  const postgres = bin('postgres');
  if (!initdb || !postgres)
    throw new Error('no initdb/postgres binaries (Debian: apt-get install postgresql)');
  const user = runAs();
  const as = user ?? {};
  const dir = mkdtempSync(join(tmpdir(), 'sutazai-own-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    ...as,
    stdio: 'pipe',
    env: { ...process.env, HOME: dir, LC_ALL: 'C' },
  });
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off'];
    const c = spawn(postgres, args, {
      ...as,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    child = c;
    let out = '';
    c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const end = Date.now() + 20_000;
    while (!out.includes('ready to accept connections')) {
      if (c.exitCode !== null) throw new Error(`postgres exited: ${out}`);
      if (Date.now() > end) throw new Error(`postgres did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGINT'); // fast shutdown: disconnects clients
    });
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
