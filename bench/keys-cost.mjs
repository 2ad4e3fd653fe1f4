#!/usr/bin/env node
// Issue 21 benchmark: what API keys + per-key limits + the usage log cost on the hottest path.
// Cached POST /v1/chat/completions (every request an L1 hit) at 1000 connections against gateways
// with SUTAZAI_AUTH=off (side a) vs SUTAZAI_AUTH=on with a key carrying rpm/tpm/concurrency limits
// (side b: key check, limits stage, usage row per request), interleaved and paired
// (bench/lib/interleave.mjs). Both sides have the same REDIS_URL and DATABASE_URL (with
// --limiter redis, the default: limits are the Lua script in Redis, usage rows go to PostgreSQL);
// --limiter memory runs both sides without Redis (in-process limiter). Every request sends the
// key (side a ignores it).
// Target: throughput cost ≤ 10 % (median of per-pair ratios); CPU µs per request reported.
// Usage: npm run build && node bench/keys-cost.mjs [--duration 3] [--warmup 0.5] [--rounds 16]
//        [--pairs 2] [--connections 1000] [--limiter redis|memory] [--usage on|off] [--aa] [--out bench/results/keys-cost.json]
// Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a schema of its
// own, dropped afterwards) and, with --limiter redis, Redis (REDIS_URL, default redis://127.0.0.1:6379).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { compare, interleaved } from './lib/interleave.mjs';
import { startGateway, startSim } from './lib/procs.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist/cli/main.js');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '16' },
    pairs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '1000' },
    limiter: { type: 'string', default: 'redis' },
    /** Usage log on side b (`off` isolates the cost of keys + limits). */
    usage: { type: 'string', default: 'on' },
    /** A/A check of the harness: both sides with auth on. */
    aa: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/keys-cost.json' },
  },
});
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const pgBase = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = values.limiter === 'redis' ? process.env.REDIS_URL || 'redis://127.0.0.1:6379' : '';
const schema = `bench_keys_${Date.now().toString(36)}`;
const databaseUrl = `${pgBase}${pgBase.includes('?') ? '&' : '?'}schema=${schema}`;
const ADMIN = 'bench-admin-key-0123456789abcdef';
const common = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  SUTAZAI_CACHE_PREFIX: `${schema}:`,
  SUTAZAI_TASK_CONCURRENCY: '0',
  SUTAZAI_ADMIN_KEY: ADMIN,
};

// The key every request sends: made with the CLI against the same store (only its hash is kept).
const created = JSON.parse(
  execFileSync(
    process.execPath,
    [
      DIST,
      'keys',
      'create',
      '--name',
      'bench',
      '--rpm',
      '1000000000',
      '--tpm',
      '1000000000',
      '--concurrency',
      '100000',
    ],
    { env: { ...process.env, ...common }, stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString(),
);

const body = { model: 'tinyllama', messages: [{ role: 'user', content: 'What does a key check cost?' }] };
const headers = { authorization: `Bearer ${created.key}` };
const machine = machineInfo();
const sim = await startSim({ readyMs: 30_000 });
let raw;
try {
  raw = await interleaved({
    start: (side) =>
      startGateway(
        `ollama=${sim.url}`,
        {
          ...common,
          SUTAZAI_AUTH: side === 'b' || values.aa ? 'on' : 'off',
          SUTAZAI_USAGE_LOG: values.usage,
        },
        { readyMs: 30_000 },
      ),
    async prepare(gw) {
      // The first request fills the cache (and the key cache); every measured request is an L1 hit.
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status !== 200) throw new Error(`priming request: ${r.status} ${await r.text()}`);
      await r.text();
    },
    load: {
      method: 'POST',
      path: '/v1/chat/completions',
      body,
      headers,
      connections,
      check: (t) => t.includes('"chat.completion"'),
    },
    rounds,
    pairs: Number(values.pairs),
    durationMs,
    warmupMs,
    labels: { a: 'off', b: 'on' },
  });
} finally {
  await sim.stop();
}

// Usage rows written for side b (one per request): a sanity check that the log was on.
const client = new pg.Client({ connectionString: pgBase });
await client.connect();
let usageRows = 0;
try {
  usageRows = Number((await client.query(`SELECT count(*) AS n FROM "${schema}".usage_log`)).rows[0].n);
} finally {
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

const cmp = compare(raw);
const costPercent = (1 - cmp.throughputRatio) * 100;
const cpuCostPercent = (cmp.cpuRatio - 1) * 100;
const machineLine = finishMachine(machine);
let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
} catch {
  /* not a git checkout */
}
const result = {
  when: new Date().toISOString(),
  commit,
  machine,
  settings: {
    durationS: durationMs / 1000,
    warmupS: warmupMs / 1000,
    rounds,
    processesPerSide: Number(values.pairs),
    connections,
    limiter: values.limiter,
    usage: values.usage,
    aa: values.aa,
  },
  runs: { off: raw.a, on: raw.b },
  pairs: cmp.pairs,
  summary: { off: cmp.a, on: cmp.b },
  usageRowsWritten: usageRows,
  costPercent,
  cpuCostPercent,
  target: 'throughput cost ≤ 10 %',
};
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
const f = (n, d = 0) => n.toFixed(d);
console.log(
  `\ncached POST /v1/chat/completions, ${connections} connections, ${rounds} round(s) × ${durationMs / 1000} s, limiter ${values.limiter} (medians)`,
);
console.log('auth      req/s     p50 ms   p99 ms   errors   gateway CPU µs/req');
for (const side of ['on', 'off']) {
  const s = result.summary[side];
  console.log(
    `${side.padEnd(8)} ${f(s.rps).padStart(7)} ${f(s.p50, 2).padStart(9)} ${f(s.p99, 2).padStart(8)} ${String(s.errors).padStart(8)} ${f(s.cpuUsPerRequest).padStart(12)}`,
  );
}
console.log(
  `per-round pairs (on/off): throughput ${cmp.pairs.map((p) => f(p.throughputRatio, 3)).join(' ')}; CPU per request ${cmp.pairs.map((p) => f(p.cpuRatio, 3)).join(' ')}`,
);
console.log(
  `throughput cost of keys+limits+usage (median of paired rounds): ${f(costPercent, 1)} % (target ≤ 10 %); CPU per request ${cpuCostPercent >= 0 ? '+' : ''}${f(cpuCostPercent, 1)} %; usage rows written ${usageRows}`,
);
console.log(`${machineLine}; written to ${values.out}`);
