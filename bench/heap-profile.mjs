#!/usr/bin/env node
// What does a request allocate? Not a benchmark: starts the simulator and a gateway with V8's
// sampling heap profiler preloaded (bench/lib/heap-sampler.mjs, collected objects included),
// drives one scenario at a fixed concurrency, and prints the bytes allocated per request in total
// and by allocating function. GC time grows with these bytes.
// Usage: npm run build && node bench/heap-profile.mjs [--scenario cached|stream] [--conc 64]
//        [--seconds 8] [--tokens 1 (stream)] [--top 30]
// cached: POST /api/v1/chat, every request an L1 hit. stream: Ollama /api/chat streamed, cache off.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.mjs';
import { CLI, freePort, spawnNode, startSim, waitHttp } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'cached' },
    conc: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '8' },
    tokens: { type: 'string', default: '1' },
    top: { type: 'string', default: '30' },
  },
});
const cached = values.scenario === 'cached';
const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'sutazai-heap-')), 'requests.heapprofile');
const sim = await startSim();
const port = await freePort();
const gw = spawnNode(
  [
    '--import',
    fileURLToPath(new URL('./lib/heap-sampler.mjs', import.meta.url)),
    CLI,
    'serve',
    '--port',
    String(port),
    '--upstream',
    `ollama=${sim.url}`,
  ],
  {
    SUTAZAI_LOG_LEVEL: 'warn',
    SUTAZAI_CACHE_MODE: cached ? 'all' : 'off',
    HEAP_OUT: out,
    REDIS_URL: '',
    DATABASE_URL: '',
  },
);
const url = `http://127.0.0.1:${port}`;
let result;
try {
  await waitHttp(`${url}/`);
  const request = cached
    ? { method: 'POST', path: '/api/v1/chat', body: { message: 'tell me something', use_cache: true } }
    : {
        method: 'POST',
        path: '/api/chat',
        body: {
          model: 'tinyllama',
          messages: [{ role: 'user', content: 'tell me something' }],
          stream: true,
          options: { num_predict: Number(values.tokens) },
        },
      };
  result = await runLoad({
    url,
    ...request,
    connections: Number(values.conc),
    durationMs: Number(values.seconds) * 1000,
  });
  process.kill(gw.child.pid, 'SIGUSR2');
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      readFileSync(out);
      break;
    } catch {
      if (Date.now() > end) throw new Error('the gateway wrote no heap profile');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
} finally {
  await gw.stop();
  await sim.stop();
}

// Sizes are summed over the whole run (warm-up included) and divided by the measured requests,
// so read them as an upper bound per request, and compare runs of the same length.
const profile = JSON.parse(readFileSync(out, 'utf8'));
const bySite = new Map();
let total = 0;
(function walk(node) {
  const f = node.callFrame;
  const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1')}:${f.lineNumber + 1}`;
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const c of node.children) walk(c);
})(profile.head);
const n = result.requests;
console.log(
  `${values.scenario}, conc ${values.conc}: ${n} requests, ${(result.rps ?? 0).toFixed(0)} req/s; ` +
    `${(total / n / 1024).toFixed(1)} KB allocated per request`,
);
console.log('bytes per request by allocating function:');
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${(bytes / n).toFixed(0).padStart(8)}  ${site}`);
}
console.log(`profile: ${out}`);
