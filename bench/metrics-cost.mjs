#!/usr/bin/env node
// Issue 6 benchmark: what metrics cost. Cached POST /api/v1/chat (every request an L1 hit) at
// 1000 connections against a gateway with SUTAZAI_METRICS=true vs =false, one gateway at a time,
// alternating the order each round. While the load runs, /metrics and /api/v1/metrics are polled
// once a second (as Prometheus and the dashboard would; in the "off" runs they answer 404).
// Target: throughput cost ≤ 5 %.
// Both gateways stay up for the whole run and are warmed before the first round; rounds are
// paired (on/off back to back) and the cost is the median of the per-round ratios.
// Usage: node bench/metrics-cost.mjs [--duration 10] [--rounds 6] [--connections 1000] [--runner dist|tsx]
//        [--scrape-ms 1000 (0 = no polling)] [--scrape-paths /metrics,/api/v1/metrics]
//        [--poller separate|inline (poll from the load generator's own process)] [--aa]
// (--runner dist needs `npm run build`; tsx runs src/ directly; default: dist when built.)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { runLoad } from './lib/load.mjs';
import { cpuSeconds, startGateway, startPoller, startSim } from './lib/procs.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist/cli/main.js');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '6' },
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
const gateways = {};
const runs = { on: [], off: [] };
/** One measured run: throughput, latency and the gateway's CPU inside the measured window only. */
async function measure(side, ms) {
  const gw = gateways[side];
  const stopScraper = startPoller(gw.url, values['scrape-paths'].split(','), scrapeMs, {
    separate: values.poller === 'separate',
  });
  let cpu0 = 0;
  let cpuS = 0;
  try {
    const res = await runLoad({
      url: gw.url,
      method: 'POST',
      path: '/api/v1/chat',
      body,
      connections,
      durationMs: ms,
      check: (t) => t.includes('"cached":true'),
      onWindow: {
        open: () => (cpu0 = cpuSeconds(gw.pid)),
        close: () => (cpuS = cpuSeconds(gw.pid) - cpu0),
      },
    });
    return { ...res, gatewayCpuS: cpuS, gatewayCpuUsPerRequest: (cpuS * 1e6) / Math.max(1, res.requests) };
  } finally {
    await stopScraper();
  }
}
try {
  // Both gateways live for the whole run (one measured at a time; the other idles), so neither pays
  // start-up or JIT warm-up inside a measured round: earlier versions restarted the gateway every
  // round and the first "on" round was always the slowest.
  for (const side of ['on', 'off']) {
    gateways[side] = await startMetricsGateway(`ollama=${sim.url}`, side === 'on' || values.aa);
    // The first request fills the cache; every measured request is an L1 hit.
    await (
      await fetch(`${gateways[side].url}/api/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).text();
  }
  for (const side of ['on', 'off']) {
    const w = await measure(side, 3000);
    process.stderr.write(`warm-up metrics ${side.padEnd(3)}: ${w.rps.toFixed(0)} req/s (not counted)\n`);
  }
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
      const res = await measure(side, durationMs);
      runs[side].push(res);
      process.stderr.write(
        `round ${r + 1} metrics ${side.padEnd(3)}: ${res.rps.toFixed(0)} req/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  gateway CPU ${res.gatewayCpuUsPerRequest.toFixed(1)} µs/req  errors ${res.errors} non2xx ${res.non2xx}\n`,
      );
    }
  }
} finally {
  for (const gw of Object.values(gateways)) await gw.stop();
  await sim.stop();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};
const summary = {};
for (const side of ['on', 'off']) {
  summary[side] = {
    rps: median(runs[side].map((x) => x.rps)),
    p50: median(runs[side].map((x) => x.p50)),
    p99: median(runs[side].map((x) => x.p99)),
    errors: runs[side].reduce((a, x) => a + x.errors + x.non2xx, 0),
    gatewayCpuUsPerRequest: median(runs[side].map((x) => x.gatewayCpuUsPerRequest)),
  };
}
// Paired by round (the two runs of a round are back to back), so slow drift of the machine cancels.
const pairs = runs.on.map((on, i) => ({
  throughputRatio: on.rps / runs.off[i].rps,
  cpuRatio: on.gatewayCpuUsPerRequest / runs.off[i].gatewayCpuUsPerRequest,
}));
const costPercent = (1 - median(pairs.map((p) => p.throughputRatio))) * 100;
const cpuCostPercent = (median(pairs.map((p) => p.cpuRatio)) - 1) * 100;
const machineLine = finishMachine(machine);
const result = {
  when: new Date().toISOString(),
  machine,
  settings: {
    durationS: durationMs / 1000,
    rounds,
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
    `${side.padEnd(8)} ${f(s.rps).padStart(7)} ${f(s.p50, 2).padStart(9)} ${f(s.p99, 2).padStart(8)} ${String(s.errors).padStart(8)} ${f(s.gatewayCpuUsPerRequest).padStart(12)}`,
  );
}
console.log(
  `per-round pairs (on/off): throughput ${pairs.map((p) => f(p.throughputRatio, 3)).join(' ')}; CPU per request ${pairs.map((p) => f(p.cpuRatio, 3)).join(' ')}`,
);
console.log(
  `throughput cost of metrics (median of paired rounds): ${f(costPercent, 1)} % (target ≤ 5 %); CPU per request +${f(cpuCostPercent, 1)} %`,
);
console.log(`${machineLine}; written to ${values.out}`);
