import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os'; import { join } from 'node:path';
const mb = () => (process.memoryUsage().rss / 2**20).toFixed(0);
const dir = process.argv[2];
const b = mb();
const db = new PGlite(dir); await db.waitReady;
const r = mb();
await db.query('create table if not exists t(a int)'); await db.query('insert into t values (1)');
const sb = await db.query("select name, setting, unit, source from pg_settings where name in ('shared_buffers','wal_buffers','work_mem','temp_buffers','maintenance_work_mem')");
console.log('before', b, 'ready', r, 'after insert', mb(), JSON.stringify(sb.rows));
if (process.argv[3] === 'alter') { await db.query("ALTER SYSTEM SET shared_buffers = '8MB'"); await db.query("ALTER SYSTEM SET wal_buffers = '256kB'"); }
await db.close();
