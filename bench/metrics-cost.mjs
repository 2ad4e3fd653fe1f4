#!/usr/bin/env node
// Issue 6 benchmark: what metrics cost. Cached POST /api/v1/chat (every request an L1 hit) at
// 1000 connections against gateways with SUTAZAI_METRICS=false vs =true, interleaved (see
// bench/lib/interleave.mjs: two gateways per side after a spare, each with its own 1000 client
// connections held open, the load alternating between them in short windows). Every gateway is
// polled on /metrics and /api/v1/metrics once a second all along, as Prometheus and a dashboard
// would (with metrics off they answer 404).
// Target: throughput cost ≤ 5 % (the median of the per-pair ratios).
// Usage: node bench/metrics-cost.mjs [--duration 3] [--warmup 0.5] [--rounds 24] [--pairs 4] [--connections 1000]
//        [--runner dist|tsx] [--scrape-ms 1000 (0 = no polling)] [--scrape-paths /metrics,/api/v1/metrics]
//        [--poller separate|inline (poll from the load generator's own process)] [--aa]
// (--runner dist needs `npm run build`; tsx runs src/ directly; default: dist when built.)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { compare, interleaved } from './lib/interleave.mjs';
import { startGateway, startPoller, startSim } from './lib/procs.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist/cli/main.js');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '24' },
    pairs: { type: 'string', default: '4' },
    connections: { type: 'string', default: '1000' },
    'scrape-ms': { type: 'string', default: '1000' },
    'scrape-paths': { type: 'string', default: '/metrics,/api/v1/metrics' },
    /** A/A check of the harness: both gateways run with metrics on (the "off" side too). */
    aa: { type: 'boolean', default: false },
    poller: { type: 'string', default: 'separate' },
    runner: { type: 'string', default: existsSync(DIST) ? 'dist' : 'tsx' },
    /** A built main.js elsewhere (overrides --runner). */
    cli: { type: 'string' },
    out: { type: 'string', default: 'bench/results/metrics-cost.json' },
  },
});
const durationMs = Number(values.duration) * 1000;
const rounds = Number(values.rounds);
const warmupMs = Number(values.warmup) * 1000;
const connections = Number(values.connections);
const scrapeMs = Number(values['scrape-ms']);
const cli = values.cli
  ? [path.resolve(values.cli)]
  : values.runner === 'dist'
    ? [DIST]
    : ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];

async function startMetricsGateway(upstream, metrics) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sutazai-bench-'));
  const gw = await startGateway(
    upstream,
    {
      SUTAZAI_METRICS: String(metrics),
      SUTAZAI_DATA_DIR: dataDir,
      SUTAZAI_TASK_CONCURRENCY: '0',
      REDIS_URL: '',
      DATABASE_URL: '',
    },
    { cli, readyMs: 30_000 },
  );
  return {
    ...gw,
    async stop() {
      await gw.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const body = { model: 'tinyllama', message: 'What does a cached answer cost?' };
const machine = machineInfo();
const sim = await startSim({ cli, readyMs: 30_000 });
// Side a = metrics off, b = metrics on (both on with --aa), interleaved (bench/lib/interleave.mjs).
let raw;
try {
  raw = await interleaved({
    start: (side) => startMetricsGateway(`ollama=${sim.url}`, side === 'b' || values.aa),
    async prepare(gw) {
      // The first request fills the cache; every measured request is an L1 hit.
      await (
        await fetch(`${gw.url}/api/v1/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).text();
      // Monitoring polls every gateway all the time, as Prometheus and a dashboard would.
      return startPoller(gw.url, values['scrape-paths'].split(','), scrapeMs, {
        separate: values.poller === 'separate',
      });
    },
    load: {
      method: 'POST',
      path: '/api/v1/chat',
      body,
      connections,
      check: (t) => t.includes('"cached":true'),
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
const cmp = compare(raw);
const runs = { on: raw.b, off: raw.a };
const summary = { on: cmp.b, off: cmp.a };
const pairs = cmp.pairs;
const costPercent = (1 - cmp.throughputRatio) * 100;
const cpuCostPercent = (cmp.cpuRatio - 1) * 100;
const machineLine = finishMachine(machine);
const result = {
  when: new Date().toISOString(),
  machine,
  settings: {
    durationS: durationMs / 1000,
    warmupS: warmupMs / 1000,
    rounds,
    processesPerSide: Number(values.pairs),
    connections,
    scrapeMs,
    scrapePaths: values['scrape-paths'],
    poller: values.poller,
    runner: values.cli ?? values.runner,
  },
  runs,
  pairs,
  summary,
  costPercent,
  cpuCostPercent,
  target: 'cost ≤ 5 %',
};
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
const f = (n, d = 0) => n.toFixed(d);
console.log(
  `\ncached POST /api/v1/chat, ${connections} connections, ${rounds} round(s) × ${durationMs / 1000} s (medians)`,
);
console.log('metrics   req/s     p50 ms   p99 ms   errors   gateway CPU µs/req');
for (const side of ['on', 'off']) {
  const s = summary[side];
  console.log(
    `${side.padEnd(8)} ${f(s.rps).padStart(7)} ${f(s.p50, 2).padStart(9)} ${f(s.p99, 2).padStart(8)} ${String(s.errors).padStart(8)} ${f(s.cpuUsPerRequest).padStart(12)}`,
  );
}
console.log(
  `per-round pairs (on/off): throughput ${pairs.map((p) => f(p.throughputRatio, 3)).join(' ')}; CPU per request ${pairs.map((p) => f(p.cpuRatio, 3)).join(' ')}`,
);
console.log(
  `throughput cost of metrics (median of paired rounds): ${f(costPercent, 1)} % (target ≤ 5 %); CPU per request +${f(cpuCostPercent, 1)} %`,
);
console.log(`${machineLine}; written to ${values.out}`);
