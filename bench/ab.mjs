#!/usr/bin/env node
// Before/after: the same load against two builds of the gateway, interleaved (bench/lib/interleave.mjs:
// two gateways per build after a spare, each with its own client connections held open, the load
// alternating between them in short windows), e.g. this checkout's dist/ vs a worktree of an older commit:
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && npx tsc -p tsconfig.build.json)
//   node bench/ab.mjs --base /tmp/base/dist/cli/main.js [--conc 16] [--rounds 12] [--pairs 2] [--duration 2]
//                     [--cached | --stream N [--tps T] [--misses]]
// Non-streaming POST /api/v1/chat against a zero-latency simulator: cache off, or with --cached
// every measured request an L1 cache hit. With --stream N: streaming POST /api/chat (Ollama
// surface, NDJSON) of N tokens each, cache off, which weighs the per-chunk path; add --tps 50 for
// tokens that arrive one network chunk each, as from a real model; add --misses for a distinct
// prompt per request with the cache on (each a miss through the cache stage and the merger). Besides latency and throughput it reports each
// gateway's CPU time per request over the measured window (from /proc), the steadier figure, and
// the medians of the per-pair ratios. Run an A/A first (no --base) to see the harness's own noise.
// --base may be omitted to compare this build with itself under different settings:
//   node bench/ab.mjs --cached --base-env SUTAZAI_METRICS=false   (--env K=V sets this side's)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compare, interleaved } from './lib/interleave.mjs';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    conc: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '12' },
    pairs: { type: 'string', default: '2' },
    duration: { type: 'string', default: '2' },
    cached: { type: 'boolean', default: false },
    stream: { type: 'string' },
    /** With --stream: a distinct prompt per request and the cache on, so every request is a miss through the cache stage and the merger. */
    misses: { type: 'boolean', default: false },
    /** Simulator tokens per second (0: every token at once); with --stream, > 0 sends each token in its own packet. */
    tps: { type: 'string', default: '0' },
    env: { type: 'string', multiple: true, default: [] },
    'base-env': { type: 'string', multiple: true, default: [] },
  },
});
const kv = (list) =>
  Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
const machine = machineInfo();
const sim = await startSim({ tps: Number(values.tps) });
const env = {
  SUTAZAI_CACHE_MODE: values.cached || values.misses ? 'all' : 'off',
  REDIS_URL: '',
  DATABASE_URL: '',
};
const sides = {
  a: { env: { ...env, ...kv(values['base-env']) }, cli: [values.base ? path.resolve(values.base) : CLI] },
  b: { env: { ...env, ...kv(values.env) }, cli: [CLI] },
};
const streamTokens = values.stream === undefined ? 0 : Number(values.stream);
if (streamTokens > 0 && values.cached) throw new Error('--stream and --cached do not mix');
if (values.misses && streamTokens === 0) throw new Error('--misses goes with --stream');
let sent = 0;
const streamBody = (content) => ({
  model: 'tinyllama',
  messages: [{ role: 'user', content }],
  stream: true,
  options: { num_predict: streamTokens },
});
const body =
  streamTokens === 0
    ? { message: 'Hello, how are you?', use_cache: values.cached }
    : values.misses
      ? () => streamBody(`Hello, how are you? (${sent++})`)
      : streamBody('Hello, how are you?');
const loadPath = streamTokens > 0 ? '/api/chat' : '/api/v1/chat';
let runs;
try {
  runs = await interleaved({
    start: (side) => startGateway(`ollama=${sim.url}`, sides[side].env, { cli: sides[side].cli }),
    async prepare(gw) {
      if (values.cached) {
        const res = await fetch(`${gw.url}/api/v1/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await res.text();
      }
    },
    load: { method: 'POST', path: loadPath, body, connections: Number(values.conc) },
    rounds: Number(values.rounds),
    pairs: Number(values.pairs),
    durationMs: Number(values.duration) * 1000,
    labels: { a: 'base', b: 'this' },
  });
} finally {
  await sim.stop();
}
const c = compare(runs);
const line = (name, r) =>
  `${name}: ${r.rps.toFixed(0)} rps p50 ${r.p50.toFixed(3)} p99 ${r.p99.toFixed(3)} ms, CPU ${r.cpuUsPerRequest.toFixed(1)} µs/req`;
console.log(
  `${streamTokens > 0 ? `streamed chat (${streamTokens} tokens${values.misses ? ', every one a cache miss' : ''})` : values.cached ? 'cached chat' : 'uncached chat'}, conc ${values.conc}, medians of ${values.rounds} interleaved rounds × ${values.duration}s`,
);
console.log(line('base', c.a));
console.log(
  `${line('this', c.b)} (per-pair medians: throughput ×${c.throughputRatio.toFixed(3)}, CPU ×${c.cpuRatio.toFixed(3)})`,
);
console.log(`pairs (this/base): throughput ${c.pairs.map((p) => p.throughputRatio.toFixed(2)).join(' ')}`);
console.log(finishMachine(machine));
