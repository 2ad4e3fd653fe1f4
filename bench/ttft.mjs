#!/usr/bin/env node
// Issue 4 benchmark: streaming time-to-first-token (TTFT) through the gateway vs directly to the
// simulator, and a check that the gateway does not batch chunks.
//  - Same protocol on both sides, so the difference is the gateway: Ollama /api/chat (gateway
//    Ollama surface vs sim) and OpenAI /v1/chat/completions (gateway OpenAI surface vs sim /v1).
//  - TTFT = request start → arrival of the first chunk carrying content.
//  - Two more sides are measured in the same run as floors: a TCP relay (bench/lib/tcp-relay.mjs:
//    bytes copied both ways, no HTTP parsing), the cost of one more process hop on this machine;
//    and the bare proxy (bench/lib/bare-proxy.mjs: node:http + one undici Pool, bytes streamed
//    through untouched), the floor any Node HTTP proxy pays.
//  - Arrivals (concurrency > 1): "staggered" starts the clients spread over one request's
//    duration, so the streams are out of phase as real users' are; "lockstep" starts them all at
//    once, and since every answer has the same length they stay in step: each round of requests
//    arrives as a burst of `conc`, and the median TTFT then includes queueing behind half the burst.
//  - Warm-up: before a surface is measured, every side first serves --warmup streaming requests of
//    that surface (short answers, concurrency 32), so V8 has optimised the code on each side's
//    request path; a process that has served a few hundred requests still runs much of it in the
//    interpreter or baseline tier, which at concurrency 1 added ~0.3 ms to the gateway. Steady
//    state is what a running gateway serves; `--warmup 0` measures a freshly started one.
//  - Rounds: every side is warmed on every surface first, then each round measures every case once,
//    so a case's rounds are spread over the run and drift reaches all cases alike; reported figures
//    are the medians of the rounds (the mean of the middle two for an even count).
//  - Batching check: every content token's arrival time is recorded per socket read. With the sim
//    at --tps T, tokens are ~1000/T ms apart; a gateway that buffers would deliver several tokens in
//    one read (gap ≈ 0). We report the median inter-token gap and the share of gaps under
//    10% of the expected interval, on both sides.
// Usage: npm run build && node bench/ttft.mjs [--conc 1,64] [--requests 200] [--rounds 2]
//        [--arrivals staggered,lockstep] [--warmup 3000]
//        [--ttft-ms 5] [--tps 50] [--tokens 12] [--upstream ollama|openai] [--surface ollama,openai]
//        [--cache off|all|deterministic]
//        [--from-source]   (run sim and gateway through tsx instead of dist/, for smoke runs)
//  - Cache: off by default, so every request streams from the upstream with nothing but the
//    gateway's own path in the way. `--cache all` runs the gateway's default configuration: every
//    prompt in the run is unique, so each request is a miss that goes through the cache stage
//    (key, lookup) and the in-flight merger, and its answer is written to the cache.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, pinCpus, startBareProxy, startGateway, startSim, startTcpRelay } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    conc: { type: 'string', default: '1,64' },
    requests: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    'ttft-ms': { type: 'string', default: '5' },
    tps: { type: 'string', default: '50' },
    tokens: { type: 'string', default: '12' },
    upstream: { type: 'string', default: 'ollama' },
    surface: { type: 'string', default: 'ollama,openai' },
    arrivals: { type: 'string', default: 'staggered,lockstep' },
    /** Streaming requests each side serves (per surface, concurrency 32) before it is measured. */
    warmup: { type: 'string', default: '3000' },
    /** The gateway's SUTAZAI_CACHE_MODE (prompts are unique, so with a cache every request misses). */
    cache: { type: 'string', default: 'off' },
    'from-source': { type: 'boolean', default: false },
    /** Load generator and simulator on CPU 0, the process under test on CPU 1 (bench/lib/procs.mjs pinCpus). */
    pin: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/ttft.json' },
  },
});
const concs = values.conc.split(',').map(Number);
const perConcRequests = Number(values.requests);
const rounds = Number(values.rounds);
const tps = Number(values.tps);
const tokens = Number(values.tokens);
const surfaces = values.surface.split(',');
const arrivalModes = values.arrivals.split(',');
const warmupRequests = Number(values.warmup);
// One request's expected duration: the spread of staggered starts.
const requestMs = Number(values['ttft-ms']) + (tps > 0 ? (tokens * 1000) / tps : 0);
const expectedGapMs = tps > 0 ? 1000 / tps : 0;
const cliArgs = values['from-source'] ? ['--import', 'tsx', 'src/cli/main.ts'] : [CLI];
const f = (n, d = 3) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** Path, body and token extractor for one wire protocol. */
const PROTOCOLS = {
  ollama: {
    path: '/api/chat',
    body: (i, n = tokens) => ({
      model: 'tinyllama',
      messages: [{ role: 'user', content: `request ${i}: tell me something` }],
      stream: true,
      options: { num_predict: n },
    }),
    separator: '\n',
    token: (piece) => {
      if (piece === '') return false;
      const o = JSON.parse(piece);
      return o.done === false && typeof o.message?.content === 'string' && o.message.content !== '';
    },
  },
  openai: {
    path: '/v1/chat/completions',
    body: (i, n = tokens) => ({
      model: 'tinyllama',
      messages: [{ role: 'user', content: `request ${i}: tell me something` }],
      stream: true,
      max_tokens: n,
    }),
    separator: '\n\n',
    token: (piece) => {
      if (!piece.startsWith('data: ') || piece === 'data: [DONE]') return false;
      const o = JSON.parse(piece.slice(6));
      const c = o.choices?.[0]?.delta?.content;
      return typeof c === 'string' && c !== '';
    },
  },
};

/** Numbers every measured prompt in the run, so no two requests ask the same (cache misses). */
let promptSeq = 0;

/** One streaming request: TTFT and the arrival time (per socket read) of each content token. */
async function streamOnce(pool, proto) {
  const body = JSON.stringify(proto.body(promptSeq++));
  const t0 = process.hrtime.bigint();
  const res = await pool.request({
    method: 'POST',
    path: proto.path,
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (res.statusCode !== 200) {
    await res.body.text();
    throw new Error(`HTTP ${res.statusCode}`);
  }
  const arrivals = [];
  let buf = '';
  for await (const data of res.body) {
    const at = Number(process.hrtime.bigint() - t0) / 1e6;
    buf += data.toString('utf8');
    let idx;
    while ((idx = buf.indexOf(proto.separator)) !== -1) {
      const piece = buf.slice(0, idx).trim();
      buf = buf.slice(idx + proto.separator.length);
      if (proto.token(piece)) arrivals.push(at);
    }
  }
  return { ttft: arrivals[0] ?? NaN, arrivals };
}

/** Warm-up: `n` short streams of `proto` at concurrency 32, results discarded. */
async function warm(baseUrl, proto, n) {
  if (n <= 0) return;
  const pool = new Pool(baseUrl, { connections: 32, keepAliveTimeout: 60_000 });
  let next = 0;
  const one = async () => {
    while (next < n) {
      const i = next++;
      const res = await pool.request({
        method: 'POST',
        path: proto.path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(proto.body(`warm ${i}`, 2)),
      });
      if (res.statusCode !== 200) throw new Error(`warm-up ${baseUrl}${proto.path}: HTTP ${res.statusCode}`);
      for await (const _ of res.body);
    }
  };
  await Promise.all(Array.from({ length: 32 }, one));
  await pool.close();
}

async function measure(baseUrl, proto, concurrency, total, warmup, arrivals) {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  let next = 0;
  const ttfts = [];
  const gaps = [];
  let errors = 0;
  const limit = warmup + total;
  async function worker(k) {
    if (arrivals === 'staggered' && k > 0) {
      await new Promise((r) => setTimeout(r, (k * requestMs) / concurrency));
    }
    while (next < limit) {
      const i = next++;
      try {
        const r = await streamOnce(pool, proto);
        if (i < warmup) continue;
        ttfts.push(r.ttft);
        for (let k = 1; k < r.arrivals.length; k++) gaps.push(r.arrivals[k] - r.arrivals[k - 1]);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, k) => worker(k)));
  await pool.close();
  const sorted = (a) => [...a].sort((x, y) => x - y);
  const q = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
  const t = sorted(ttfts);
  const g = sorted(gaps);
  const batchedBelow = expectedGapMs * 0.1;
  return {
    n: t.length,
    errors,
    ttftP50: q(t, 0.5),
    ttftP90: q(t, 0.9),
    ttftP99: q(t, 0.99),
    gapP10: q(g, 0.1),
    gapP50: q(g, 0.5),
    gapP90: q(g, 0.9),
    gaps: g.length,
    batchedShare: g.length && expectedGapMs > 0 ? g.filter((x) => x < batchedBelow).length / g.length : NaN,
  };
}

const machine = machineInfo();
if (values.pin) pinCpus();
const sim = await startSim({ cli: cliArgs, tps, ttftMs: values['ttft-ms'], readyMs: 60_000 });
const upstreamUrl = values.upstream === 'openai' ? `${sim.url}/v1` : sim.url;
// Every request must really stream from the upstream: no cache by default; with --cache, every
// prompt is unique, so each request is a miss through the cache stage and the merger.
const gw = await startGateway(
  `${values.upstream}=${upstreamUrl}`,
  { SUTAZAI_CACHE_MODE: values.cache },
  { cli: cliArgs, readyMs: 60_000 },
);
const proxy = await startBareProxy(sim.url);
const relay = await startTcpRelay(sim.url);
const urls = { direct: sim.url, relay: relay.url, proxy: proxy.url, gateway: gw.url };
const SIDES = Object.keys(urls);
const results = [];
try {
  // Every side warms up on every surface first; then the rounds run one after another, each
  // measuring every case (surface × concurrency × arrivals) once. A case's rounds are thus spread
  // over the whole run, so drift on the machine reaches every case alike: measured case by case,
  // the first surface came out 0.35-1.1 ms worse at concurrency 1 than the second, in either order.
  for (const surface of surfaces) {
    const warmStart = Date.now();
    for (const side of SIDES) await warm(urls[side], PROTOCOLS[surface], warmupRequests);
    process.stderr.write(
      `${surface}: warm-up ${warmupRequests} requests per side, ${Date.now() - warmStart} ms\n`,
    );
  }
  const cases = [];
  for (const surface of surfaces)
    for (const c of concs)
      for (const arrivals of c > 1 ? arrivalModes : ['staggered'])
        cases.push({
          surface,
          c,
          arrivals,
          total: Math.max(perConcRequests, c * 3),
          runs: Object.fromEntries(SIDES.map((side) => [side, []])),
        });
  for (let r = 0; r < rounds; r++)
    for (const { surface, c, arrivals, total, runs } of cases) {
      // Rotate the order so drift on a shared machine hits every side.
      const order = SIDES.map((_, k) => SIDES[(k + r) % SIDES.length]);
      for (const side of order) {
        const res = await measure(urls[side], PROTOCOLS[surface], c, total, c, arrivals);
        runs[side].push(res);
        process.stderr.write(
          `round ${r + 1} ${surface} c=${c} ${c > 1 ? arrivals + ' ' : ''}${side}: ttft p50 ${f(res.ttftP50)} p99 ${f(res.ttftP99)} ms; gap p50 ${f(res.gapP50)} ms, batched ${f(res.batchedShare * 100, 1)}%; n ${res.n} errors ${res.errors}\n`,
        );
      }
    }
  for (const { surface, c, arrivals, total, runs } of cases) {
    // The median of the rounds (the mean of the middle two for an even count).
    const med = (side, k) => {
      const v = runs[side].map((x) => x[k]).sort((x, y) => x - y);
      const m = v.length >> 1;
      return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    };
    const pick = (side) => ({
      ttftP50: med(side, 'ttftP50'),
      ttftP99: med(side, 'ttftP99'),
      gapP50: med(side, 'gapP50'),
      batchedShare: med(side, 'batchedShare'),
    });
    const d = pick('direct');
    const t = pick('relay');
    const p = pick('proxy');
    const g = pick('gateway');
    results.push({
      surface,
      concurrency: c,
      arrivals: c > 1 ? arrivals : 'n/a',
      requests: total,
      direct: d,
      relay: t,
      proxy: p,
      gateway: g,
      addedTtftP50Ms: g.ttftP50 - d.ttftP50,
      addedTtftP99Ms: g.ttftP99 - d.ttftP99,
      relayAddedTtftP50Ms: t.ttftP50 - d.ttftP50,
      proxyAddedTtftP50Ms: p.ttftP50 - d.ttftP50,
      proxyAddedTtftP99Ms: p.ttftP99 - d.ttftP99,
      runs,
    });
  }
} finally {
  await gw.stop();
  await proxy.stop();
  await relay.stop();
  await sim.stop();
}
const machineLine = finishMachine(machine);

mkdirSync('bench/results', { recursive: true });
const settings = {
  upstream: values.upstream,
  ttftMs: Number(values['ttft-ms']),
  tps,
  tokens,
  rounds,
  expectedGapMs,
  pinned: values.pin,
  warmupRequests,
  arrivals: arrivalModes,
  cacheMode: values.cache,
};
writeFileSync(
  values.out,
  JSON.stringify({ date: new Date().toISOString(), machine, settings, results }, null, 2),
);

console.log(
  `\nStreaming TTFT, gateway vs direct (upstream ${values.upstream}; sim ttft ${values['ttft-ms']} ms, ${tps} tok/s, ${tokens} tokens; medians of ${rounds} interleaved rounds; warm-up ${warmupRequests} requests per side and surface; gateway cache ${values.cache})`,
);
console.log(
  'surface | conc | arrivals | direct p50 | relay p50 | proxy p50 | gw p50 | gw added p50 (relay, proxy added) | direct p99 | proxy p99 | gw p99 | gw added p99 (proxy added) | gap p50 direct/gw | batched direct/gw',
);
for (const x of results) {
  console.log(
    `${x.surface} | ${x.concurrency} | ${x.arrivals} | ${f(x.direct.ttftP50)} | ${f(x.relay.ttftP50)} | ${f(x.proxy.ttftP50)} | ${f(x.gateway.ttftP50)} | ${f(x.addedTtftP50Ms)} (${f(x.relayAddedTtftP50Ms)}, ${f(x.proxyAddedTtftP50Ms)}) | ${f(x.direct.ttftP99)} | ${f(x.proxy.ttftP99)} | ${f(x.gateway.ttftP99)} | ${f(x.addedTtftP99Ms)} (${f(x.proxyAddedTtftP99Ms)}) | ${f(x.direct.gapP50, 2)}/${f(x.gateway.gapP50, 2)} | ${f(x.direct.batchedShare * 100, 1)}%/${f(x.gateway.batchedShare * 100, 1)}%`,
  );
}
console.log(machineLine);
console.log(`written: ${values.out}`);
