import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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
