#!/usr/bin/env node
// Issue 2 benchmark: what the gateway adds on top of the upstream, and on top of bare node.
//  (a) POST /api/v1/chat through the gateway → simulator, vs the same request sent directly to
//      the simulator (POST /api/chat), at several concurrencies: added p50/p99, throughput ratio.
//      A third side, the bare proxy (bench/lib/bare-proxy.mjs: node:http + one undici Pool, bytes
//      passed through), sends the direct request through the thinnest possible Node proxy: the
//      floor any Node gateway pays on this machine. "gw vs proxy" is what our features cost on top.
//      A fourth side, a TCP relay (bench/lib/tcp-relay.mjs: bytes copied, no HTTP), is the cost of
//      one more process hop on this machine, whatever the process does.
//  (b) GET /health on the gateway vs a bare node:http server sending a same-size body, at 1000
//      connections (all opened before measuring), interleaved (bench/lib/interleave.mjs: a spare,
//      then `--health-pairs` processes per side, the load alternating between them in short windows;
//      the figure is the median of the per-pair ratios).
// Usage: npm run build && node bench/overhead.mjs [--duration 5] [--conc 1,16,64,256] [--health-conns 1000]
//        [--health-rounds 12] [--health-pairs 2] [--health-duration 3]
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { compare, interleaved } from './lib/interleave.mjs';
import { runLoad } from './lib/load.mjs';
import { startBare, pinCpus, startBareProxy, startGateway, startSim, startTcpRelay } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    conc: { type: 'string', default: '1,16,64,256' },
    'health-conns': { type: 'string', default: '1000' },
    'health-rounds': { type: 'string', default: '12' },
    'health-pairs': { type: 'string', default: '2' },
    'health-duration': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    /** Load generator and simulator on CPU 0, the process under test on CPU 1 (bench/lib/procs.mjs pinCpus). */
    pin: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/overhead.json' },
  },
});
const durationMs = Number(values.duration) * 1000;
const concs = values.conc.split(',').map(Number);
const rounds = Number(values.rounds);
const f = (n, d = 2) => n.toFixed(d);

const machine = machineInfo();
if (values.pin) pinCpus();
const sim = await startSim();
// Cache off: every gateway request really goes to the upstream.
const gw = await startGateway(`ollama=${sim.url}`, { SUTAZAI_CACHE_MODE: 'off' });
const proxy = await startBareProxy(sim.url);
const relay = await startTcpRelay(sim.url);
const SIDES = ['direct', 'relay', 'proxy', 'gateway'];
const viaUrl = { direct: sim.url, relay: relay.url, proxy: proxy.url };
const message = 'Hello, how are you?';
const direct = {
  model: 'tinyllama',
  messages: [{ role: 'user', content: message }],
  stream: false,
  options: { num_predict: 150, temperature: 0.7 },
};
const viaGw = { message };
const checkDirect = (t) => t.includes('"done":true');
const checkGw = (t) => t.includes('"response":"');

const chat = [];
try {
  for (const c of concs) {
    const runs = Object.fromEntries(SIDES.map((side) => [side, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so drift on a shared machine hits every side.
      const order = SIDES.map((_, k) => SIDES[(k + r) % SIDES.length]);
      for (const side of order) {
        const res =
          side !== 'gateway'
            ? await runLoad({
                url: viaUrl[side],
                method: 'POST',
                path: '/api/chat',
                body: direct,
                connections: c,
                durationMs,
                check: checkDirect,
              })
            : await runLoad({
                url: gw.url,
                method: 'POST',
                path: '/api/v1/chat',
                body: viaGw,
                connections: c,
                durationMs,
                check: checkGw,
              });
        runs[side].push(res);
        process.stderr.write(
          `chat c=${c} ${side}: ${f(res.rps, 0)} rps p50 ${f(res.p50, 3)} p99 ${f(res.p99, 3)} ms errors ${res.errors + res.non2xx}\n`,
        );
      }
    }
    const med = (arr, k) => arr.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(arr.length / 2)];
    const pick = (side) => ({
      rps: med(runs[side], 'rps'),
      p50: med(runs[side], 'p50'),
      p99: med(runs[side], 'p99'),
    });
    const d = pick('direct');
    const t = pick('relay');
    const p = pick('proxy');
    const g = pick('gateway');
    chat.push({
      concurrency: c,
      direct: d,
      relay: t,
      proxy: p,
      gateway: g,
      addedP50Ms: g.p50 - d.p50,
      addedP99Ms: g.p99 - d.p99,
      relayAddedP50Ms: t.p50 - d.p50,
      relayAddedP99Ms: t.p99 - d.p99,
      proxyAddedP50Ms: p.p50 - d.p50,
      proxyAddedP99Ms: p.p99 - d.p99,
      throughputRatio: g.rps / d.rps,
      proxyThroughputRatio: p.rps / d.rps,
      runs,
    });
  }
} finally {
  await gw.stop();
  await proxy.stop();
  await relay.stop();
}

// (b) /health vs bare node with a same-size body, at many connections, interleaved.
const hc = Number(values['health-conns']);
let healthBody;
const health = { connections: hc };
try {
  const probe = await startGateway(`ollama=${sim.url}`);
  healthBody = await (await fetch(`${probe.url}/health`)).text();
  await probe.stop();
  health.bodyBytes = healthBody.length;
  // Side a = bare node, b = gateway.
  const raw = await interleaved({
    start: (side) => (side === 'a' ? startBare(healthBody) : startGateway(`ollama=${sim.url}`)),
    load: { method: 'GET', path: '/health', connections: hc },
    rounds: Number(values['health-rounds']),
    pairs: Number(values['health-pairs']),
    durationMs: Number(values['health-duration']) * 1000,
    labels: { a: 'bare', b: 'gateway' },
  });
  const cmp = compare(raw);
  Object.assign(health, {
    bare: cmp.a,
    gateway: cmp.b,
    pairs: cmp.pairs,
    ratio: cmp.throughputRatio,
    runs: { bare: raw.a, gateway: raw.b },
  });
} finally {
  await sim.stop();
}
const machineLine = finishMachine(machine);

const result = {
  date: new Date().toISOString(),
  machine,
  durationS: durationMs / 1000,
  pinned: values.pin,
  rounds,
  chat,
  health,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2));

console.log(
  `\nGateway overhead (POST /api/v1/chat → sim, cache off; medians of ${rounds} rounds × ${durationMs / 1000}s)`,
);
console.log(
  'conc | direct rps | proxy rps | gateway rps | gw ratio | direct p50 | relay p50 | proxy p50 | gw p50 | gw added p50 (relay, proxy added) | direct p99 | proxy p99 | gw p99 | gw added p99 (proxy added)',
);
for (const x of chat) {
  console.log(
    `${x.concurrency} | ${f(x.direct.rps, 0)} | ${f(x.proxy.rps, 0)} | ${f(x.gateway.rps, 0)} | ${f(x.throughputRatio)} | ${f(x.direct.p50, 3)} | ${f(x.relay.p50, 3)} | ${f(x.proxy.p50, 3)} | ${f(x.gateway.p50, 3)} | ${f(x.addedP50Ms, 3)} (${f(x.relayAddedP50Ms, 3)}, ${f(x.proxyAddedP50Ms, 3)}) | ${f(x.direct.p99, 3)} | ${f(x.proxy.p99, 3)} | ${f(x.gateway.p99, 3)} | ${f(x.addedP99Ms, 3)} (${f(x.proxyAddedP99Ms, 3)})`,
  );
}
console.log(
  `\nGET /health at ${hc} connections (interleaved, median of per-pair ratios): gateway ${f(health.gateway.rps, 0)} rps vs bare node ${f(health.bare.rps, 0)} rps (medians) → ${f(health.ratio * 100, 1)}%`,
);
console.log(machineLine);
console.log(`written: ${values.out}`);
