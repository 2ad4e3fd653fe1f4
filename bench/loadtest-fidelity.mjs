#!/usr/bin/env node
// Issue 24 item 3: does `sutazai loadtest` distort what it measures? A cache-hit chat at
// concurrency 16 through one gateway, measured alternately by `sutazai loadtest` (closed loop,
// --think 0, one worker) and by the exact C client (bench/lib/hclient.c) sending the very same
// request bytes; median of the per-pair p50 ratios (loadtest / exact) with their spread, and the
// load tester's own CPU per request, event-loop delay and the warnings it printed.
// Target: loadtest p50 within 10 % of the exact client's.
// Usage: npm run build && node bench/loadtest-fidelity.mjs [--pairs 5] [--duration 4] [--conc 16]
//          [--workers 1] [--out bench/results/loadtest-fidelity.json]
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { hclientLoop } from './lib/hclient.mjs';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    conc: { type: 'string', default: '16' },
    workers: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/loadtest-fidelity.json' },
  },
});
const pairs = Number(values.pairs);
const durationS = Number(values.duration);
const conc = Number(values.conc);
const log = (s) => process.stderr.write(`${s}\n`);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const f = (n, d = 3) => n.toFixed(d);

const machine = machineInfo();
const sim = await startSim({ extra: ['--tokens', '64'] });
const gw = await startGateway(`ollama=${sim.url}`);
// The request `sutazai loadtest --mix repeat=1 --repeat-prompts 1 --model tinyllama` sends.
const prompt = 'Loadtest question 0: explain in one sentence why caching helps a busy API.';
const body = JSON.stringify({ message: prompt, model: 'tinyllama' });
await (
  await fetch(`${gw.url}/api/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
).text();

function loadtest() {
  const out = `${os.tmpdir()}/lt-fidelity-${process.pid}.json`;
  const stdout = execFileSync(
    process.execPath,
    [
      CLI,
      'loadtest',
      'progressive',
      '--url',
      gw.url,
      '--stages',
      String(conc),
      '--stage-duration',
      `${durationS + 1}s`,
      '--warmup',
      '1s',
      '--think',
      '0',
      '--mix',
      'repeat=1',
      '--repeat-prompts',
      '1',
      '--model',
      'tinyllama',
      '--workers',
      values.workers,
      '--no-server-metrics',
      '--quiet',
      '--no-slo',
      '--json',
      out,
    ],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const st = r.stages[0];
  return {
    rps: st.stats.okRps,
    p50: st.stats.latency.p50,
    p99: st.stats.latency.p99,
    errors: st.stats.errors,
    generator: st.generator,
    warnings: r.warnings,
    printedWarning: stdout.includes('WARNING'),
  };
}

const rows = [];
for (let i = 0; i < pairs; i++) {
  const exactFirst = i % 2 === 0;
  const exact0 = exactFirst
    ? await hclientLoop({
        url: gw.url,
        method: 'POST',
        path: '/api/v1/chat',
        headers: { accept: 'application/json' },
        body,
        connections: conc,
        durationS,
        warmupS: 1,
      })
    : undefined;
  const lt = loadtest();
  const exact =
    exact0 ??
    (await hclientLoop({
      url: gw.url,
      method: 'POST',
      path: '/api/v1/chat',
      headers: { accept: 'application/json' },
      body,
      connections: conc,
      durationS,
      warmupS: 1,
    }));
  const row = {
    exact,
    loadtest: lt,
    p50Ratio: lt.p50 / exact.p50,
    rpsRatio: lt.rps / exact.rps,
    load1: os.loadavg()[0],
  };
  rows.push(row);
  log(
    `pair ${i + 1}: exact p50 ${f(exact.p50)} ms p99 ${f(exact.p99)} ${exact.rps.toFixed(0)} rps | loadtest p50 ${f(lt.p50)} p99 ${f(lt.p99)} ` +
      `${lt.rps.toFixed(0)} rps, cpu ${lt.generator.cpuPct.toFixed(0)}%, loop p99 ${lt.generator.loopDelayP99Ms.toFixed(1)} ms, ` +
      `warnings ${lt.warnings.length} | p50 ratio ${f(row.p50Ratio)} | load ${row.load1.toFixed(2)}`,
  );
}
await gw.stop();
await sim.stop();
const ratios = rows.map((r) => r.p50Ratio);
const summary = {
  p50_ratio_median: med(ratios),
  p50_ratio_spread: [Math.min(...ratios), Math.max(...ratios)],
  rps_ratio_median: med(rows.map((r) => r.rpsRatio)),
  exact_p50_median: med(rows.map((r) => r.exact.p50)),
  loadtest_p50_median: med(rows.map((r) => r.loadtest.p50)),
  loadtest_cpu_us_per_req_median: med(rows.map((r) => (r.loadtest.generator.cpuPct * 1e4) / r.loadtest.rps)),
  exact_cpu_us_per_req_median: med(rows.map((r) => r.exact.client_cpu_us_per_req)),
  pairs_with_warning: rows.filter((r) => r.loadtest.warnings.length > 0).length,
};
log(
  `median p50 ratio loadtest/exact ${f(summary.p50_ratio_median)} [${summary.p50_ratio_spread.map((x) => f(x)).join('–')}], ` +
    `loadtest ~${summary.loadtest_cpu_us_per_req_median.toFixed(1)} µs CPU/request vs exact ${summary.exact_cpu_us_per_req_median.toFixed(1)}`,
);
log(finishMachine(machine));
const commit = execSync('git rev-parse --short HEAD').toString().trim();
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  values.out,
  `${JSON.stringify({ commit, machine, upstream: { kind: 'simulator', tps: 0, ttft_ms: 0, tokens: 64 }, conc, durationS, summary, rows }, null, 2)}\n`,
);
log(`wrote ${values.out}`);
