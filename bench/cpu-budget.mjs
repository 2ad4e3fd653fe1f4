#!/usr/bin/env node
// Issue 24 item 1: CPU per request against the floor, paired in one run.
//  cache  — cache-hit POST /api/v1/chat through the gateway vs a bare node:http server sending the
//           same bytes (budget: ≤ 25 µs and ≤ 1.5× bare node).
//  chat   — uncached non-streamed Ollama /api/chat (SUTAZAI_CACHE_MODE=off) through the gateway vs
//           the bare proxy (bench/lib/bare-proxy.mjs), both in front of the simulator (≤ 1.5×).
//  stream — the same, streamed (NDJSON, --tokens per answer): CPU per streamed token (≤ 1.5×).
// Load from the exact C client (bench/lib/hclient.c) at --conc connections; CPU of the process
// under test from /proc over the measured window (plus warm-up, scaled). Rounds alternate which
// side goes first; the figure is the median of the per-round ratios, with their spread.
// Added time to first token (concurrency 1 and staggered 64) is bench/ttft.mjs.
// Usage: npm run build && node bench/cpu-budget.mjs [--rounds 5] [--duration 4] [--conc 16]
//          [--cases cache,chat,stream] [--tokens 32] [--warm-s 4] [--out bench/results/cpu-budget.json]
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { hclientLoop } from './lib/hclient.mjs';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { cpuSeconds, startBare, startBareProxy, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    'warm-s': { type: 'string', default: '4' },
    conc: { type: 'string', default: '16' },
    tokens: { type: 'string', default: '32' },
    cases: { type: 'string', default: 'cache,chat,stream' },
    env: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: 'bench/results/cpu-budget.json' },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const conc = Number(values.conc);
const tokens = Number(values.tokens);
const cases = values.cases.split(',');
const gwEnv = Object.fromEntries(values.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
const log = (s) => process.stderr.write(`${s}\n`);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const f = (n, d = 1) => n.toFixed(d);

const machine = machineInfo();
const commit = execSync('git rev-parse --short HEAD').toString().trim();
const sim = await startSim({ extra: ['--tokens', String(tokens)] });
const result = {
  commit,
  machine,
  upstream: { kind: 'simulator', tps: 0, ttft_ms: 0, slots: 1024, tokens },
  settings: { rounds, durationS, warmupS, conc, gatewayEnv: gwEnv },
  cases: {},
};

/** One measurement: requests/s, latency and CPU µs per request of process `pid`. */
async function measure(side, target) {
  const cpu0 = cpuSeconds(side.pid);
  const r = await hclientLoop({ ...target, url: side.url, connections: conc, durationS, warmupS });
  const cpuS = cpuSeconds(side.pid) - cpu0;
  // CPU covers warm-up + window; the request rate is steady, so scale by the window's share.
  const requests = r.rps * (durationS + warmupS);
  return { ...r, cpuUsPerReq: (cpuS * 1e6) / requests };
}

async function pairCase(name, sides, target, unit = 1) {
  // Warm every side first: a freshly started process runs its request path unoptimised for a
  // while (the first round of a cold gateway measured ~10x its warm CPU per request).
  for (const side of Object.values(sides))
    await hclientLoop({
      ...target,
      url: side.url,
      connections: conc,
      durationS: Number(values['warm-s']),
      warmupS: 0,
    });
  const rows = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['base', 'gw'] : ['gw', 'base'];
    const row = {};
    for (const k of order) row[k] = await measure(sides[k], target);
    row.ratio = row.gw.cpuUsPerReq / row.base.cpuUsPerReq;
    row.load1 = os.loadavg()[0];
    rows.push(row);
    log(
      `  ${name} round ${i + 1}: gateway ${f(row.gw.cpuUsPerReq / unit, 2)} µs, baseline ${f(row.base.cpuUsPerReq / unit, 2)} µs ` +
        `per ${unit === 1 ? 'request' : 'token'} → ${f(row.ratio, 2)}× (gw ${f(row.gw.rps, 0)} rps p50 ${f(row.gw.p50, 3)} ms; ` +
        `base ${f(row.base.rps, 0)} rps p50 ${f(row.base.p50, 3)} ms; errors ${row.gw.errors + row.gw.non2xx}) load ${f(row.load1, 2)}`,
    );
  }
  const ratios = rows.map((r) => r.ratio);
  const summary = {
    unit: unit === 1 ? 'request' : 'token',
    gateway_cpu_us: med(rows.map((r) => r.gw.cpuUsPerReq / unit)),
    baseline_cpu_us: med(rows.map((r) => r.base.cpuUsPerReq / unit)),
    ratio_median: med(ratios),
    ratio_spread: [Math.min(...ratios), Math.max(...ratios)],
    gateway_p50_ms: med(rows.map((r) => r.gw.p50)),
    baseline_p50_ms: med(rows.map((r) => r.base.p50)),
  };
  log(
    `${name}: gateway ${f(summary.gateway_cpu_us, 2)} µs vs baseline ${f(summary.baseline_cpu_us, 2)} µs per ${summary.unit}: ` +
      `${f(summary.ratio_median, 2)}× [${summary.ratio_spread.map((x) => f(x, 2)).join('–')}]`,
  );
  result.cases[name] = { summary, rounds: rows };
}

if (cases.includes('cache')) {
  const body = { model: 'tinyllama', message: 'the same prompt every time', options: { temperature: 0 } };
  const gw = await startGateway(`ollama=${sim.url}`, gwEnv);
  const target = { method: 'POST', path: '/api/v1/chat', body };
  const answer = await (
    await fetch(`${gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  ).text();
  const bare = await startBare(answer);
  log(`cache: cache-hit /api/v1/chat (${answer.length} B answer) vs bare node:http, ${conc} connections`);
  await pairCase('cache', { gw, base: bare }, target);
  await Promise.all([gw.stop(), bare.stop()]);
}

const ollamaChat = (stream) => ({
  method: 'POST',
  path: '/api/chat',
  body: { model: 'tinyllama', messages: [{ role: 'user', content: 'hello there' }], stream },
});
if (cases.includes('chat') || cases.includes('stream')) {
  const gw = await startGateway(`ollama=${sim.url}`, { SUTAZAI_CACHE_MODE: 'off', ...gwEnv });
  const proxy = await startBareProxy(sim.url);
  if (cases.includes('chat')) {
    log(`chat: uncached /api/chat (not streamed) vs bare proxy, ${conc} connections`);
    await pairCase('chat', { gw, base: proxy }, ollamaChat(false));
  }
  if (cases.includes('stream')) {
    log(
      `stream: uncached /api/chat streamed, ${tokens} tokens per answer, vs bare proxy, ${conc} connections`,
    );
    await pairCase('stream', { gw, base: proxy }, ollamaChat(true), tokens);
  }
  await Promise.all([gw.stop(), proxy.stop()]);
}

await sim.stop();
log(finishMachine(machine));
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${values.out}`);
