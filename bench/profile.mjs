#!/usr/bin/env node
// Where does the gateway spend its CPU? Starts the simulator and a gateway under `--cpu-prof`,
// drives one scenario at a fixed concurrency, stops the gateway (which writes the profile) and
// prints the gateway's CPU per request, the top functions by self time and the time per module
// (self time summed by file, node internals grouped).
// Usage: npm run build && node bench/profile.mjs [--scenario chat|stream|cached|get] [--path /health]
//        [--conc 16] [--seconds 10] [--tps 0] [--surface v1|ollama|openai] [--top 25]
//        [--env KEY=VALUE ...]   (extra gateway environment, e.g. SUTAZAI_METRICS=off)
//        [--tokens N] (answer length; default the sim's 150)
//        [--misses] (cache on, a distinct prompt per request: each a miss through the cache stage
//        and the in-flight merger, the default configuration's path for a new prompt)
//        [--scrape-ms N] (poll /metrics and /api/v1/metrics every N ms meanwhile)
//        [--target gateway|proxy] (proxy: profile bench/lib/bare-proxy.mjs instead, fed the
//        direct Ollama-shaped request; the floor to compare the gateway's profile with)
//        [--heap] (allocation instead of CPU: V8's sampling heap profiler, collected objects
//        included, preloaded by bench/lib/heap-sampler.mjs; prints the bytes allocated per request in
//        total and by allocating function, which is what GC time grows with)
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.mjs';
import { CLI, freePort, spawnNode, startPoller, startSim, waitHttp } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'chat' },
    conc: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    tps: { type: 'string', default: '0' },
    surface: { type: 'string', default: 'v1' },
    top: { type: 'string', default: '25' },
    env: { type: 'string', multiple: true, default: [] },
    path: { type: 'string', default: '/health' },
    target: { type: 'string', default: 'gateway' },
    'scrape-ms': { type: 'string', default: '0' },
    tokens: { type: 'string' },
    heap: { type: 'boolean', default: false },
    misses: { type: 'boolean', default: false },
  },
});

const REQUESTS = {
  v1: (stream) => ({
    path: stream ? '/api/v1/chat/stream' : '/api/v1/chat',
    body: { message: 'tell me something', use_cache: false },
  }),
  ollama: (stream) => ({
    path: '/api/chat',
    body: { model: 'tinyllama', messages: [{ role: 'user', content: 'tell me something' }], stream },
  }),
  openai: (stream) => ({
    path: '/v1/chat/completions',
    body: { model: 'tinyllama', messages: [{ role: 'user', content: 'tell me something' }], stream },
  }),
};

const scenario = values.scenario;
const env = Object.fromEntries(
  values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const cacheMode = scenario === 'cached' || values.misses ? 'all' : 'off';
const sim = await startSim({ tps: Number(values.tps), extra: ['--seed', '1'] });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sutazai-prof-'));
const port = await freePort();
const proxy = values.target === 'proxy';
const heapOut = path.join(dir, 'requests.heapprofile');
const profiler = values.heap
  ? ['--import', fileURLToPath(new URL('./lib/heap-sampler.mjs', import.meta.url))]
  : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const gw = proxy
  ? spawnNode([...profiler, fileURLToPath(new URL('./lib/bare-proxy.mjs', import.meta.url))], {
      UPSTREAM: sim.url,
      PORT: String(port),
      HEAP_OUT: heapOut,
    })
  : spawnNode([...profiler, CLI, 'serve', '--port', String(port), '--upstream', `ollama=${sim.url}`], {
      SUTAZAI_LOG_LEVEL: 'warn',
      SUTAZAI_CACHE_MODE: cacheMode,
      SUTAZAI_UPSTREAM_SLOTS: '1024',
      HEAP_OUT: heapOut,
      ...env,
    });
const url = `http://127.0.0.1:${port}`;
await waitHttp(proxy ? `${url}/api/version` : `${url}/`);

let req;
if (scenario === 'get') req = { method: 'GET', path: values.path };
else {
  const r = REQUESTS[proxy ? 'ollama' : values.surface](scenario === 'stream');
  let body = scenario === 'cached' && values.surface === 'v1' ? { ...r.body, use_cache: true } : r.body;
  // --tokens N: answers of N tokens (the sim's default is 150), to see the per-request cost.
  if (values.tokens !== undefined) {
    const n = Number(values.tokens);
    body =
      values.surface === 'openai' && !proxy
        ? { ...body, max_tokens: n }
        : { ...body, options: { num_predict: n } };
  }
  req = { method: 'POST', path: r.path, body };
  if (values.misses) {
    const fixed = body;
    let seq = 0;
    req.body =
      'message' in fixed
        ? () => ({ ...fixed, message: `${fixed.message} ${seq++}`, use_cache: true })
        : () => ({ ...fixed, messages: [{ role: 'user', content: `tell me something ${seq++}` }] });
  }
}
// --scrape-ms N: poll /metrics and /api/v1/metrics every N ms during the load, as a monitor would.
const stopPoller = startPoller(url, ['/metrics', '/api/v1/metrics'], Number(values['scrape-ms']));
const result = await runLoad({
  url,
  ...req,
  connections: Number(values.conc),
  durationMs: Number(values.seconds) * 1000,
});
await stopPoller();
if (values.heap) await collectHeapProfile();
await gw.stop();
await sim.stop();
const summary = `${values.target} scenario ${scenario} surface ${proxy ? 'ollama' : values.surface} conc ${values.conc}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, errors ${result.errors + result.non2xx}`;
if (values.heap) printHeap();
else printCpu();

/** Ask the sampler for its profile (SIGUSR2) and wait until it is on disk. */
async function collectHeapProfile() {
  process.kill(gw.child.pid, 'SIGUSR2');
  const end = Date.now() + 10_000;
  while (!existsSync(heapOut)) {
    if (Date.now() > end) throw new Error('the process wrote no heap profile');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function printHeap() {
  const profile = JSON.parse(readFileSync(heapOut, 'utf8'));
  const bySite = new Map();
  let total = 0;
  (function walk(node) {
    const f = node.callFrame;
    const u = f.url.replace('file://', '').replace(process.cwd() + '/', '');
    const site = `${f.functionName || '(anonymous)'} ${u}:${f.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) walk(c);
  })(profile.head);
  const perReq = (bytes) => (result.completed ? bytes / result.completed : 0);
  console.log(summary);
  console.log(
    `${(perReq(total) / 1024).toFixed(1)} KB allocated per request (over the whole run, warm-up included)`,
  );
  console.log('\ntop allocating functions (bytes per request):');
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`  ${perReq(bytes).toFixed(0).padStart(7)}  ${site}`);
  console.log(`\nprofile: ${heapOut}`);
}

function printCpu() {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const totalUs = [...dt.values()].reduce((a, b) => a + b, 0);
  const idleUs = [...byId.values()]
    .filter((n) => n.callFrame.functionName === '(idle)')
    .reduce((a, n) => a + (dt.get(n.id) ?? 0), 0);
  const busyUs = totalUs - idleUs;
  const self = new Map();
  const modules = new Map();
  const cwd = process.cwd();
  for (const n of byId.values()) {
    const us = dt.get(n.id) ?? 0;
    if (!us || n.callFrame.functionName === '(idle)') continue;
    const u = n.callFrame.url.replace('file://', '').replace(cwd + '/', '');
    const mod =
      u === ''
        ? `(${n.callFrame.functionName || 'native'})`
        : u.startsWith('node:')
          ? u.split('/')[0] + '/' + (u.split('/')[1] ?? '')
          : u.replace(/node_modules\/([^/]+)\/.*/, 'node_modules/$1');
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${u}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  const perReq = (us) => (result.completed ? us / result.completed : 0);
  const top = Number(values.top);
  console.log(summary);
  console.log(
    `gateway busy ${(busyUs / 1e6).toFixed(2)} s of ${(totalUs / 1e6).toFixed(2)} s profiled; ~${perReq(busyUs).toFixed(0)} µs CPU per request (over the whole profile, warm-up included)`,
  );
  console.log('\nself time by module (µs per request):');
  for (const [m, us] of [...modules].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${perReq(us).toFixed(1).padStart(7)}  ${m}`);
  console.log('\ntop functions by self time (µs per request):');
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${perReq(us).toFixed(1).padStart(7)}  ${k}`);
  console.log(`\nprofile: ${path.join(dir, file)}`);
}
