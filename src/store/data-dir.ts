import { constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StartupError } from '../errors/startup.js';

/**
 * Embedded storage opens on the first task, long after start-up; a data dir it could never create
 * or write should fail start-up instead. Checks the dir, or the nearest ancestor that exists, and
 * creates nothing.
 */
export async function checkDataDir(dataDir: string): Promise<void> {
  const setting = 'SUTAZAI_DATA_DIR / --data-dir';
  const fix =
    'choose a directory this user can write (--data-dir ~/.sutazai), or set DATABASE_URL to use PostgreSQL';
  let p = resolve(dataDir);
  for (;;) {
    try {
      const s = await stat(p);
      if (!s.isDirectory()) throw new StartupError(setting, dataDir, `${p} is not a directory`, fix);
      break;
    } catch (err) {
      if (err instanceof StartupError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        p = dirname(p);
        continue;
      }
      if (code !== 'ENOENT' || dirname(p) === p) throw new StartupError(setting, dataDir, String(code), fix);
      p = dirname(p);
    }
  }
  try {
    await access(p, constants.W_OK | constants.X_OK);
  } catch {
    throw new StartupError(setting, dataDir, `${p} is not writable by this user`, fix);
  }
}

/** A held lock on a data directory; release() is idempotent. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

const LOCK_FILE = 'sutazai.lock';
/**
 * Locks this process holds, by lock file path, with a count (`serve` and its store take one each).
 * Module state on purpose: a lock belongs to the process, whatever number of gateways it builds.
 */
const held = new Map<string, number>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' ? (info as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take `<dataDir>/sutazai.lock` for this process (issue 23, finding 6): embedded PGlite is one
 * process's database, and two processes on one directory corrupt it and lose task results. The
 * file holds the pid; a lock whose process is gone (same host, pid not running) is stale and
 * taken over. Another live holder fails with a StartupError naming the directory and its pid.
 * Re-entrant within one process. Synchronous so it can run before anything opens the directory.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  const file = join(dir, LOCK_FILE);
  const count = held.get(file);
  if (count !== undefined) {
    held.set(file, count + 1);
    return once(file);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StartupError(
      'SUTAZAI_DATA_DIR / --data-dir',
      dataDir,
      `${dir} cannot be created: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'choose a directory this user can write (--data-dir ~/.sutazai), or set DATABASE_URL to use PostgreSQL',
    );
  }
  const me: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      held.set(file, 1);
      process.once('exit', () => {
        if (held.has(file)) removeIfOurs(file);
      });
      return once(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const other = readLock(file);
    const foreignHost = other !== undefined && other.host !== me.host;
    if (other !== undefined && (foreignHost || pidAlive(other.pid))) {
      throw new StartupError(
        'SUTAZAI_DATA_DIR / --data-dir',
        dataDir,
        `${dir} is in use by process ${other.pid}${foreignHost ? ` on ${other.host}` : ''} (since ${other.since}); ` +
          'two processes on one embedded database corrupt it',
        `stop process ${other.pid}, give this one its own --data-dir, or set DATABASE_URL so processes share PostgreSQL`,
      );
    }
    // Stale (its process is gone) or unreadable (a crash mid-write): take it over.
    rmSync(file, { force: true });
  }
  throw new StartupError('SUTAZAI_DATA_DIR / --data-dir', dataDir, `could not lock ${dir}`, 'retry');
}

function once(file: string): DataDirLock {
  let released = false;
  return {
    path: file,
    release() {
      if (released) return;
      released = true;
      const n = (held.get(file) ?? 1) - 1;
      if (n > 0) held.set(file, n);
      else {
        held.delete(file);
        removeIfOurs(file);
      }
    },
  };
}

function removeIfOurs(file: string): void {
  if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}
