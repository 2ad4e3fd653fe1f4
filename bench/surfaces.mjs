#!/usr/bin/env node
// Issue 22 (items 4, 5, 7): what the new surfaces cost next to the OpenAI chat surface they sit
// beside. The same chat through POST /v1/chat/completions, /v1/messages (Anthropic) and
// /v1/responses (OpenAI Responses), against one gateway in front of the simulator:
//  (a) hit: non-streamed, one fixed prompt, every request an L1 cache hit (mapping + cache +
//      rendering, no upstream), the hot path;
//  (b) stream: streamed answers of --tokens tokens with the cache off (per-chunk rendering).
// Windows alternate between the surfaces (--rounds), so drift on this shared machine hits all
// alike; the figure to read is each surface's gateway CPU µs per request relative to chat
// completions in the same run.
// Usage: npm run build && node bench/surfaces.mjs [--duration 4] [--rounds 3] [--conns 32]
//          [--tokens 64] [--cases hit,stream] [--out bench/results/surfaces.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { openLoad } from './lib/load.mjs';
import { cpuSeconds, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    conns: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '64' },
    cases: { type: 'string', default: 'hit,stream' },
    out: { type: 'string', default: 'bench/results/surfaces.json' },
  },
});
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const rounds = Number(values.rounds);
const connections = Number(values.conns);
const tokens = Number(values.tokens);
const log = (s) => process.stderr.write(`${s}\n`);
const machine = machineInfo();

const prompt = 'Tell me a short story about a lighthouse keeper';
const SURFACES = {
  chat: (stream) => ({
    path: '/v1/chat/completions',
    body: {
      model: 'tinyllama',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: tokens,
      temperature: 0,
      stream,
    },
  }),
  messages: (stream) => ({
    path: '/v1/messages',
    body: {
      model: 'tinyllama',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: tokens,
      temperature: 0,
      stream,
    },
  }),
  responses: (stream) => ({
    path: '/v1/responses',
    body: { model: 'tinyllama', input: prompt, max_output_tokens: tokens, temperature: 0, stream },
  }),
};

async function runCase(name, { cacheMode, stream }) {
  const sim = await startSim();
  const gw = await startGateway(`ollama=${sim.url}`, { SUTAZAI_CACHE_MODE: cacheMode, REDIS_URL: '' });
  const loads = Object.fromEntries(
    Object.entries(SURFACES).map(([s, make]) => {
      const { path, body } = make(stream);
      return [s, openLoad({ url: gw.url, method: 'POST', path, body, connections })];
    }),
  );
  const per = Object.fromEntries(Object.keys(SURFACES).map((s) => [s, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [s, load] of Object.entries(loads)) {
        let c0 = 0;
        let c1 = 0;
        const res = await load.measure({
          durationMs,
          warmupMs,
          onWindow: { open: () => (c0 = cpuSeconds(gw.pid)), close: () => (c1 = cpuSeconds(gw.pid)) },
        });
        if (res.errors || res.non2xx)
          throw new Error(`${name}/${s}: ${res.errors} errors, ${res.non2xx} non-2xx`);
        const cpuUs = ((c1 - c0) * 1e6) / res.requests;
        per[s].push({ rps: res.rps, p50: res.p50, p99: res.p99, cpuUsPerRequest: cpuUs });
        log(
          `${name} round ${r + 1} ${s}: ${res.rps.toFixed(0)} rps, p50 ${res.p50.toFixed(2)} ms, gateway CPU ${cpuUs.toFixed(0)} µs/req`,
        );
      }
    }
  } finally {
    for (const l of Object.values(loads)) await l.close();
    await gw.stop();
    await sim.stop();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = Object.fromEntries(
    Object.entries(per).map(([s, runs]) => [
      s,
      {
        rps: median(runs.map((x) => x.rps)),
        p50: median(runs.map((x) => x.p50)),
        p99: median(runs.map((x) => x.p99)),
        cpuUsPerRequest: median(runs.map((x) => x.cpuUsPerRequest)),
      },
    ]),
  );
  for (const s of Object.keys(summary))
    summary[s].cpuVsChat = summary[s].cpuUsPerRequest / summary.chat.cpuUsPerRequest;
  return { runs: per, summary };
}

const results = { machine, connections, tokens, durationMs, rounds, cases: {} };
const cases = new Set(values.cases.split(','));
if (cases.has('hit')) results.cases.hit = await runCase('hit', { cacheMode: 'all', stream: false });
if (cases.has('stream')) results.cases.stream = await runCase('stream', { cacheMode: 'off', stream: true });
const summaryLine = finishMachine(machine);
for (const [c, r] of Object.entries(results.cases)) {
  for (const [s, x] of Object.entries(r.summary)) {
    console.log(
      `${c.padEnd(6)} ${s.padEnd(9)} ${x.rps.toFixed(0).padStart(6)} rps  p50 ${x.p50.toFixed(2)} ms  p99 ${x.p99.toFixed(2)} ms  CPU ${x.cpuUsPerRequest.toFixed(0)} µs/req  (×${x.cpuVsChat.toFixed(2)} of chat)`,
    );
  }
}
console.log(summaryLine);
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
