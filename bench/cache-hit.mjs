#!/usr/bin/env node
// Issue 3 benchmark: the response cache's hit path.
//  (a) cache-hit POST /api/v1/chat (L1 hit) at 100 and 1000 connections vs a bare node:http
//      server sending a same-size JSON body, in the same run: throughput ratio, p50/p99.
//  (b) the same with L1 disabled (SUTAZAI_CACHE_MAX_BYTES=0): every hit is read from Redis (L2).
//  (c) a Zipf-distributed prompt workload on a cold cache: measured hit rate (and merges) vs the
//      best possible for that exact request sequence (every distinct prompt must miss once).
// Targets (issue 3): L1 hit ≥ 60% of bare node's throughput at 1000 connections with p99 < 100 ms;
// L2 hit p99 < 150 ms.
// Usage: npm run build && node bench/cache-hit.mjs [--duration 10] [--conns 100,1000] [--rounds 2]
//          [--tool undici|autocannon] [--zipf-prompts 1000] [--zipf-s 1] [--zipf-requests 20000]
//          [--zipf-conns 64] [--cases l1,l2,zipf] [--out bench/results/cache-hit.json]
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379); keys go under a unique prefix and are
// deleted afterwards. The load generator is bench/lib/load.mjs (connections opened before
// measuring, hrtime-timed); --tool autocannon cross-checks with autocannon (which opens its
// connections at the start of the measured run; its warm-up is a separate run).
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { createRng } from '../dist/sim/rng.js';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { runLoad, sleep } from './lib/load.mjs';
import { startBare, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    conns: { type: 'string', default: '100,1000' },
    rounds: { type: 'string', default: '2' },
    tool: { type: 'string', default: 'undici' },
    'zipf-prompts': { type: 'string', default: '1000' },
    'zipf-s': { type: 'string', default: '1' },
    'zipf-requests': { type: 'string', default: '20000' },
    'zipf-conns': { type: 'string', default: '64' },
    'skip-zipf': { type: 'boolean', default: false },
    cases: { type: 'string', default: 'l1,l2,zipf' },
    'redis-timeout-ms': { type: 'string' },
    out: { type: 'string', default: 'bench/results/cache-hit.json' },
  },
});
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const conns = values.conns.split(',').map(Number);
const rounds = Number(values.rounds);
const tool = values.tool;
if (tool !== 'undici' && tool !== 'autocannon') throw new Error('--tool must be undici or autocannon');
const cases = new Set(values.cases.split(','));
if (values['skip-zipf']) cases.delete('zipf');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:cache-hit:${randomUUID().slice(0, 8)}:`;
const f = (n, d = 2) => (typeof n === 'number' ? n.toFixed(d) : String(n));
const log = (s) => process.stderr.write(`${s}\n`);

const machine = machineInfo();

/** autocannon with the same result shape as runLoad (a warm-up run first, on its own connections). */
async function runAutocannon({ url, method = 'GET', path = '/', body, connections, durationMs, warmupMs }) {
  const opts = {
    url: `${url}${path}`,
    method,
    connections,
    pipelining: 1,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  };
  if (warmupMs > 0) await autocannon({ ...opts, duration: warmupMs / 1000 });
  // autocannon does not read bodies; the hit was checked while priming (x-sutazai-cache).
  const r = await autocannon({ ...opts, duration: durationMs / 1000 });
  return {
    connections,
    requests: r.requests.total,
    rps: r.requests.total / (durationMs / 1000),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
const load = (o) => (tool === 'autocannon' ? runAutocannon(o) : runLoad(o));

const chatBody = { message: 'What is the capital of France?', options: { temperature: 0 } };
const isHit = (t) => t.includes('"cached":true');

async function hitCase(name, gwUrl, bareUrl) {
  const out = { name, byConnections: [] };
  for (const c of conns) {
    const runs = { gateway: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order each round so drift on a shared machine hits both sides.
      const order = r % 2 === 0 ? ['bare', 'gateway'] : ['gateway', 'bare'];
      for (const side of order) {
        const res = await load({
          url: side === 'bare' ? bareUrl : gwUrl,
          method: 'POST',
          path: '/api/v1/chat',
          body: chatBody,
          connections: c,
          durationMs,
          warmupMs,
          check: side === 'gateway' ? isHit : undefined,
        });
        runs[side].push(res);
        log(
          `${name} c=${c} ${side}: ${f(res.rps, 0)} rps p50 ${f(res.p50, 3)} p99 ${f(res.p99, 3)} ms errors ${res.errors + res.non2xx}`,
        );
      }
    }
    const med = (arr, k) => arr.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(arr.length / 2)];
    const pick = (arr) => ({ rps: med(arr, 'rps'), p50: med(arr, 'p50'), p99: med(arr, 'p99') });
    const g = pick(runs.gateway);
    const b = pick(runs.bare);
    out.byConnections.push({ connections: c, gateway: g, bare: b, throughputRatio: g.rps / b.rps, runs });
  }
  // What the gateway saw: a non-hit answer (errors above) is an L2 timeout turned into a miss.
  const st = await (await fetch(`${gwUrl}/api/v1/cache/stats`)).json();
  out.gatewayCacheStats = { requests: st.requests, l1: st.l1, l2: st.l2, merge: st.merge };
  return out;
}

// ---- Zipf workload -------------------------------------------------------------------------
/** A reproducible sequence of prompt ranks drawn from Zipf(s) over n prompts. */
function zipfSequence(n, s, count, seed = 42) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = sum += 1 / k ** s;
  const rnd = createRng(seed);
  const seq = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const u = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    seq[i] = lo;
  }
  return seq;
}

async function zipfCase(gwUrl, simUrl) {
  const n = Number(values['zipf-prompts']);
  const s = Number(values['zipf-s']);
  const total = Number(values['zipf-requests']);
  const c = Number(values['zipf-conns']);
  const seq = zipfSequence(n, s, total);
  const distinct = new Set(seq).size;
  const sim0 = await (await fetch(`${simUrl}/sim/stats`)).json();
  const pool = new Pool(gwUrl, { connections: c, pipelining: 1, keepAliveTimeout: 60_000 });
  const counts = { 'hit-l1': 0, 'hit-l2': 0, miss: 0, merged: 0, bypass: 0, other: 0, errors: 0 };
  let next = 0;
  const t0 = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/api/v1/chat',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: `zipf prompt #${seq[i]}`, options: { temperature: 0 } }),
        });
        await res.body.text();
        if (res.statusCode !== 200) counts.errors++;
        const h = res.headers['x-sutazai-cache'];
        counts[h in counts ? h : 'other']++;
      } catch {
        counts.errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.close();
  const sim1 = await (await fetch(`${simUrl}/sim/stats`)).json();
  const hits = counts['hit-l1'] + counts['hit-l2'];
  return {
    prompts: n,
    s,
    requests: total,
    connections: c,
    distinctPromptsRequested: distinct,
    counts,
    measuredHitRate: hits / total,
    measuredHitOrMergedRate: (hits + counts.merged) / total,
    bestPossibleHitRate: (total - distinct) / total,
    upstreamCalls: sim1.generations - sim0.generations,
    minimumUpstreamCalls: distinct,
    rps: total / elapsedS,
  };
}

// ---- run -----------------------------------------------------------------------------------
const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
await admin.ping(); // fail early if Redis is not there
const result = {
  date: new Date().toISOString(),
  machine,
  tool,
  durationS: durationMs / 1000,
  rounds,
  cases: [],
};
const sim = await startSim();
const upstream = `ollama=${sim.url}`;
const common = {
  SUTAZAI_CACHE_MODE: 'all',
  REDIS_URL: redisUrl,
  ...(values['redis-timeout-ms'] ? { SUTAZAI_REDIS_TIMEOUT_MS: values['redis-timeout-ms'] } : {}),
};
result.redisTimeoutMs = values['redis-timeout-ms'] ? Number(values['redis-timeout-ms']) : 'default (50)';
const procs = [];
try {
  const l1 = await startGateway(upstream, { ...common, SUTAZAI_CACHE_PREFIX: `${prefix}l1:` });
  procs.push(l1);
  const l2 = await startGateway(upstream, {
    ...common,
    SUTAZAI_CACHE_PREFIX: `${prefix}l2:`,
    SUTAZAI_CACHE_MAX_BYTES: '0',
  });
  procs.push(l2);

  // Prime both caches, check the hit, and take the body size for the bare server.
  const prime = async (url) => {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${url}/api/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatBody),
      });
      const text = await res.text();
      if (res.headers.get('x-sutazai-cache')?.startsWith('hit'))
        return { text, status: res.headers.get('x-sutazai-cache') };
      await sleep(50);
    }
    throw new Error(`${url}: no cache hit after priming`);
  };
  const p1 = await prime(l1.url);
  const p2 = await prime(l2.url);
  if (p1.status !== 'hit-l1' || p2.status !== 'hit-l2')
    throw new Error(`unexpected hit tiers ${p1.status} ${p2.status}`);
  const bare = await startBare(p1.text);
  procs.push(bare);
  result.bodyBytes = Buffer.byteLength(p1.text);

  if (cases.has('l1')) result.cases.push(await hitCase('l1-hit', l1.url, bare.url));
  if (cases.has('l2')) result.cases.push(await hitCase('l2-hit (L1 disabled)', l2.url, bare.url));
  await l1.stop();
  await l2.stop();

  if (cases.has('zipf')) {
    const z = await startGateway(upstream, { ...common, SUTAZAI_CACHE_PREFIX: `${prefix}zipf:` });
    procs.push(z);
    result.zipf = await zipfCase(z.url, sim.url);
    log(
      `zipf: hit rate ${f(result.zipf.measuredHitRate * 100, 1)}% vs best ${f(result.zipf.bestPossibleHitRate * 100, 1)}%`,
    );
  }
} finally {
  for (const p of procs.reverse()) await p.stop();
  await sim.stop();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await admin.unlink(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
  await admin.quit();
}
const machineLine = finishMachine(machine);

const at = (name, c) =>
  result.cases.find((x) => x.name.startsWith(name))?.byConnections.find((x) => x.connections === c);
const l1k = at('l1-hit', 1000);
const l2k = at('l2-hit', 1000);
result.targets = {
  l1RatioAt1000: {
    target: '>= 0.60',
    value: l1k?.throughputRatio ?? null,
    met: l1k ? l1k.throughputRatio >= 0.6 : null,
  },
  l1P99At1000Ms: {
    target: '< 100',
    value: l1k?.gateway.p99 ?? null,
    met: l1k ? l1k.gateway.p99 < 100 : null,
  },
  l2P99At1000Ms: {
    target: '< 150',
    value: l2k?.gateway.p99 ?? null,
    met: l2k ? l2k.gateway.p99 < 150 : null,
  },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2));

console.log(
  `\nCache-hit POST /api/v1/chat vs bare node:http (${result.bodyBytes}-byte body; ${tool}; medians of ${rounds} × ${durationMs / 1000}s)`,
);
console.log('case | conns | gateway rps | bare rps | ratio | gw p50 | gw p99 | bare p50 | bare p99');
for (const c of result.cases) {
  for (const x of c.byConnections) {
    console.log(
      `${c.name} | ${x.connections} | ${f(x.gateway.rps, 0)} | ${f(x.bare.rps, 0)} | ${f(x.throughputRatio)} | ${f(x.gateway.p50, 3)} | ${f(x.gateway.p99, 3)} | ${f(x.bare.p50, 3)} | ${f(x.bare.p99, 3)}`,
    );
  }
}
for (const [k, v] of Object.entries(result.targets))
  console.log(
    `target ${k}: ${f(v.value, 3)} (${v.target}) ${v.met === null ? 'not measured' : v.met ? 'met' : 'NOT met'}`,
  );
if (result.zipf) {
  const z = result.zipf;
  console.log(
    `\nZipf(s=${z.s}) over ${z.prompts} prompts, ${z.requests} requests at ${z.connections} connections: hit rate ${f(z.measuredHitRate * 100, 2)}% (hit or merged ${f(z.measuredHitOrMergedRate * 100, 2)}%) vs best possible ${f(z.bestPossibleHitRate * 100, 2)}%; upstream calls ${z.upstreamCalls} (minimum ${z.minimumUpstreamCalls})`,
  );
}
console.log(machineLine);
console.log(`written: ${values.out}`);
