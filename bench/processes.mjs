#!/usr/bin/env node
// Issue 24 item 2: every core.
//  (a) cache-hit POST /api/v1/chat at 1000 keep-alive connections: bare node:http (same-size
//      body), the gateway with one process and with `--processes 2`, interleaved round by round
//      (median of the per-round ratios, with their spread), gateway CPU µs per request.
//  (b) spike: 1000 clients connecting at the same instant (one request each) to a cache-hit chat
//      through one process with the old 511 backlog, one process, and `--processes auto`:
//      connect timeouts, p99 time to connect and to the first byte.
// The load generator is the exact C client (bench/lib/hclient.c: epoll, hrtime-equivalent per
// request). Needs PostgreSQL for --processes > 1 (DATABASE_URL, default the local test database).
// Usage: npm run build && node bench/processes.mjs [--rounds 5] [--duration 5] [--conns 1000]
//          [--spike-clients 1000] [--spike-rounds 5] [--cases throughput,spike] [--out FILE]
import os from 'node:os';
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hclientLoop, hclientSpike } from './lib/hclient.mjs';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { sleep } from './lib/load.mjs';
import { startBare, startGateway, startSim, treeCpuSeconds } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    conns: { type: 'string', default: '1000' },
    'spike-clients': { type: 'string', default: '1000' },
    'spike-rounds': { type: 'string', default: '5' },
    cases: { type: 'string', default: 'throughput,spike' },
    out: { type: 'string', default: 'bench/results/processes.json' },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const conns = Number(values.conns);
const cases = new Set(values.cases.split(','));
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (s) => process.stderr.write(`${s}\n`);
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const spread = (xs) => [Math.min(...xs), Math.max(...xs)];
const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

const machine = machineInfo();
const commit = execSync('git rev-parse --short HEAD').toString().trim();
const sim = await startSim({ extra: ['--tokens', '64'] });
const chat = { model: 'tinyllama', message: 'the same prompt every time', options: { temperature: 0 } };
const target = (url) => ({ url, method: 'POST', path: '/api/v1/chat', body: chat });
const result = {
  commit,
  machine,
  upstream: { kind: 'simulator', url: sim.url, tps: 0, ttft_ms: 0, slots: 1024, tokens: 64 },
  settings: { rounds, durationS, conns },
};

async function gateway(processes, extraEnv = {}) {
  const schema = `bench_proc_${process.pid}_${processes}_${Math.random().toString(36).slice(2, 6)}`;
  const gw = await startGateway(`ollama=${sim.url}`, {
    SUTAZAI_PROCESSES: String(processes),
    DATABASE_URL: `${databaseUrl}?schema=${schema}`,
    ...extraEnv,
  });
  // Prime every worker's L1: new connections are handed to the workers in turn.
  for (let i = 0; i < 16; i++) {
    const res = await fetch(`${gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify(chat),
    });
    if (res.status !== 200) throw new Error(`priming: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  return gw;
}

if (cases.has('throughput')) {
  const body = await (
    await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ ...chat, stream: false }) })
  ).text();
  const bare = await startBare(await gatewayBodySample());
  const one = await gateway(1);
  const two = await gateway(2);
  const sides = { bare, one, two };
  // Warm each side (every worker's JIT warms up on its own) before anything is recorded.
  for (const side of Object.values(sides))
    await hclientLoop({ ...target(side.url), connections: conns, durationS: 4, warmupS: 0 });
  const rows = [];
  log(`throughput: ${rounds} rounds × ${durationS}s at ${conns} connections (body ${body.length} B)`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['bare', 'one', 'two'] : ['two', 'one', 'bare'];
    const row = {};
    for (const name of order) {
      const s = sides[name];
      const cpu0 = treeCpuSeconds(s.pid);
      const res = await hclientLoop({ ...target(s.url), connections: conns, durationS, warmupS: 1 });
      const cpu = treeCpuSeconds(s.pid) - cpu0;
      // CPU over warm-up + window; requests over the window only: scale by the window share.
      row[name] = { ...res, server_cpu_us_per_req: (cpu * 1e6) / (res.rps * (durationS + 1)) };
    }
    row.oneVsBare = row.one.rps / row.bare.rps;
    row.twoVsOne = row.two.rps / row.one.rps;
    rows.push(row);
    log(
      `  round ${r + 1}: bare ${f(row.bare.rps, 0)} rps, 1 proc ${f(row.one.rps, 0)} (${f(row.oneVsBare)}× bare), ` +
        `2 procs ${f(row.two.rps, 0)} (${f(row.twoVsOne)}× 1 proc); errors ${row.one.errors + row.two.errors}, load ${os.loadavg()[0].toFixed(2)}`,
    );
  }
  const pick = (k) => rows.map((x) => x[k]);
  result.throughput = {
    rounds: rows,
    median: {
      bare_rps: med(rows.map((x) => x.bare.rps)),
      one_rps: med(rows.map((x) => x.one.rps)),
      two_rps: med(rows.map((x) => x.two.rps)),
      one_vs_bare: med(pick('oneVsBare')),
      one_vs_bare_spread: spread(pick('oneVsBare')),
      two_vs_one: med(pick('twoVsOne')),
      two_vs_one_spread: spread(pick('twoVsOne')),
      p99_ms: {
        bare: med(rows.map((x) => x.bare.p99)),
        one: med(rows.map((x) => x.one.p99)),
        two: med(rows.map((x) => x.two.p99)),
      },
      cpu_us_per_req: {
        bare: med(rows.map((x) => x.bare.server_cpu_us_per_req)),
        one: med(rows.map((x) => x.one.server_cpu_us_per_req)),
        two: med(rows.map((x) => x.two.server_cpu_us_per_req)),
      },
    },
  };
  const m = result.throughput.median;
  log(
    `throughput median: 1 proc ${f(m.one_vs_bare)}× bare node [${m.one_vs_bare_spread.map((x) => f(x)).join('–')}], ` +
      `2 procs ${f(m.two_vs_one)}× 1 proc [${m.two_vs_one_spread.map((x) => f(x)).join('–')}]`,
  );
  await Promise.all([bare.stop(), one.stop(), two.stop()]);

  /** The gateway's own cache-hit answer, so bare node sends the same bytes. */
  async function gatewayBodySample() {
    const g = await gateway(1);
    const text = await (
      await fetch(`${g.url}/api/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chat),
      })
    ).text();
    await g.stop();
    return text;
  }
}

if (cases.has('spike')) {
  const clients = Number(values['spike-clients']);
  const variants = [
    ['1 process, backlog 511 (before)', 1, { SUTAZAI_LISTEN_BACKLOG: '511' }],
    ['1 process', 1, {}],
    ['--processes auto', 'auto', {}],
  ];
  result.spike = [];
  for (const [name, procs, env] of variants) {
    const gw = await gateway(procs, env);
    // One unrecorded spike first: fresh workers answer their first burst with a cold JIT.
    await hclientSpike({ ...target(gw.url), clients, timeoutMs: 10_000 });
    await sleep(500);
    const runs = [];
    for (let r = 0; r < Number(values['spike-rounds']); r++) {
      runs.push(await hclientSpike({ ...target(gw.url), clients, timeoutMs: 10_000 }));
      await sleep(500);
    }
    await gw.stop();
    const s = {
      name,
      processes: procs === 'auto' ? os.availableParallelism() : procs,
      clients,
      runs,
      /** Clients whose connection never opened within the timeout, or failed. */
      connect_timeouts: runs.reduce((a, x) => a + (x.clients - x.connected) + x.connect_errors, 0),
      /** Clients connected but not answered within the timeout (10 s). */
      answer_timeouts: runs.reduce((a, x) => a + x.timeouts, 0),
      ttfb_p99_ms: med(runs.map((x) => x.ttfb_ms.p99)),
      ttfb_p99_spread: spread(runs.map((x) => x.ttfb_ms.p99)),
      ttfb_p50_ms: med(runs.map((x) => x.ttfb_ms.p50)),
      connect_p99_ms: med(runs.map((x) => x.connect_ms.p99)),
    };
    result.spike.push(s);
    log(
      `spike ${name}: ${clients} clients × ${runs.length}: connect timeouts ${s.connect_timeouts}, answers later than 10 s ${s.answer_timeouts}, TTFB p50 ${f(s.ttfb_p50_ms, 1)} ms, ` +
        `p99 ${f(s.ttfb_p99_ms, 1)} ms [${s.ttfb_p99_spread.map((x) => f(x, 0)).join('–')}], connect p99 ${f(s.connect_p99_ms, 1)} ms`,
    );
  }
}

await sim.stop();
log(finishMachine(machine));
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${values.out}`);
