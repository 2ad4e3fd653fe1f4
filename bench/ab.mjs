#!/usr/bin/env node
// Before/after: the same load against two builds of the gateway side by side (one measured at a
// time, order alternating each round), e.g. this checkout's dist/ vs a worktree of an older commit:
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && npx tsc -p tsconfig.build.json)
//   node bench/ab.mjs --base /tmp/base/dist/cli/main.js [--conc 16] [--rounds 6] [--duration 4]
// Non-streaming POST /api/v1/chat against a zero-latency simulator: cache off, or with --cached
// every measured request an L1 cache hit. Besides latency and throughput it reports each
// gateway's CPU time per request over the measured window (from /proc), the steadier figure.
// --base may be omitted to compare this build with itself under different settings:
//   node bench/ab.mjs --cached --base-env SUTAZAI_METRICS=false   (--env K=V sets this side's)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.mjs';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, cpuSeconds, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    conc: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '4' },
    cached: { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
    'base-env': { type: 'string', multiple: true, default: [] },
  },
});
const kv = (list) =>
  Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
const machine = machineInfo();
const sim = await startSim();
const env = { SUTAZAI_CACHE_MODE: values.cached ? 'all' : 'off' };
const gws = {
  base: await startGateway(
    `ollama=${sim.url}`,
    { ...env, ...kv(values['base-env']) },
    {
      cli: [values.base ? path.resolve(values.base) : CLI],
    },
  ),
  this: await startGateway(`ollama=${sim.url}`, { ...env, ...kv(values.env) }, { cli: [CLI] }),
};
const runs = { base: [], this: [] };
try {
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const side of r % 2 ? ['base', 'this'] : ['this', 'base']) {
      let cpu0 = 0;
      let cpuS = 0;
      const x = await runLoad({
        url: gws[side].url,
        method: 'POST',
        path: '/api/v1/chat',
        body: { message: 'Hello, how are you?', use_cache: values.cached },
        connections: Number(values.conc),
        durationMs: Number(values.duration) * 1000,
        onWindow: {
          open: () => (cpu0 = cpuSeconds(gws[side].pid)),
          close: () => (cpuS = cpuSeconds(gws[side].pid) - cpu0),
        },
      });
      x.cpuUs = (cpuS * 1e6) / Math.max(1, x.requests);
      runs[side].push(x);
      process.stderr.write(
        `${side}: ${x.rps.toFixed(0)} rps p50 ${x.p50.toFixed(3)} p99 ${x.p99.toFixed(3)} ms, gateway CPU ${x.cpuUs.toFixed(1)} µs/req\n`,
      );
    }
  }
} finally {
  for (const g of Object.values(gws)) await g.stop();
  await sim.stop();
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const row = (s) => ({
  rps: med(runs[s].map((x) => x.rps)),
  p50: med(runs[s].map((x) => x.p50)),
  p99: med(runs[s].map((x) => x.p99)),
  cpuUs: med(runs[s].map((x) => x.cpuUs)),
});
const b = row('base');
const t = row('this');
console.log(
  `${values.cached ? 'cached' : 'uncached'} chat, conc ${values.conc}, medians of ${values.rounds} rounds × ${values.duration}s`,
);
console.log(
  `base: ${b.rps.toFixed(0)} rps p50 ${b.p50.toFixed(3)} p99 ${b.p99.toFixed(3)} ms, CPU ${b.cpuUs.toFixed(1)} µs/req`,
);
console.log(
  `this: ${t.rps.toFixed(0)} rps p50 ${t.p50.toFixed(3)} p99 ${t.p99.toFixed(3)} ms, CPU ${t.cpuUs.toFixed(1)} µs/req (throughput ×${(t.rps / b.rps).toFixed(3)}, CPU ×${(t.cpuUs / b.cpuUs).toFixed(3)})`,
);
console.log(finishMachine(machine));
