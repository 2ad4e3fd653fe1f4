#!/usr/bin/env node
// RSS that embedded storage (PGlite) adds to a gateway process on the first task: each variant runs
// in a fresh child process (RSS before; open the store as the gateway does; save and read one task
// record; RSS after, after a GC). Usage: npm run build && node bench/embedded-store-rss.mjs [runs]
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VARIANTS = {
  'in-memory (no data dir)': { inMemory: true },
  'data dir (the gateway default)': {},
};

if (process.argv[2] === '--child') {
  const variant = JSON.parse(process.argv[3]);
  const { createStore } = await import(new URL('../dist/store/index.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sutazai-rss-'));
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const store = await createStore({ config: { databaseUrl: undefined, dataDir: dir }, ...variant });
  await store.tasks.save({
    id: 't1',
    type: 'chat',
    status: 'queued',
    priority: 5,
    attempts: 0,
    createdAt: Date.now(),
  });
  await store.tasks.get('t1');
  const openMs = performance.now() - t0;
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  await store.close();
  globalThis.gc?.();
  const closed = process.memoryUsage().rss;
  rmSync(dir, { recursive: true, force: true });
  process.send({ before, after, closed, openMs });
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 3);
const self = fileURLToPath(import.meta.url);
const mb = (b) => (b / 2 ** 20).toFixed(0);
console.log(
  `node ${process.version}, PGlite ${JSON.parse(execFileSync('npm', ['ls', '@electric-sql/pglite', '--json'], { encoding: 'utf8' })).dependencies?.['@electric-sql/pglite']?.version ?? '?'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  'variant | RSS before MB | after first task MB | added MB (median of runs) | after close MB | open+first task ms',
);
for (const [name, variant] of Object.entries(VARIANTS)) {
  const rows = [];
  for (let i = 0; i < runs; i++) {
    rows.push(
      await new Promise((resolve, reject) => {
        const c = fork(self, ['--child', JSON.stringify(variant)], { execArgv: ['--expose-gc'] });
        c.once('message', resolve);
        c.once('exit', (code) => code !== 0 && reject(new Error(`child exited ${code}`)));
      }),
    );
  }
  const med = (f) => rows.map(f).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  console.log(
    `${name} | ${mb(med((r) => r.before))} | ${mb(med((r) => r.after))} | ${mb(med((r) => r.after - r.before))} | ${mb(med((r) => r.closed))} | ${med((r) => r.openMs).toFixed(0)}`,
  );
}
