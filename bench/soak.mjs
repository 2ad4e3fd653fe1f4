#!/usr/bin/env node
// Soak (issue 23, item 4): a gateway under steady mixed load for --duration-s seconds (default 600):
// chat misses, chat cache hits, streams on the three surfaces, background tasks and embeddings,
// against the simulator, with Redis (L2 cache + BullMQ) and PostgreSQL as in production. Every
// second it samples the gateway process: RSS and open descriptors from /proc, sockets among them,
// V8 heap from its /metrics. After --warmup-s, the first --window-s seconds are compared with the
// last --window-s: RSS (median) and the live heap (the heap's floor after collections) must grow
// < 5 %, descriptors and
// sockets not at all (beyond the in-flight noise of --fd-slack). Exit code 1 when a bound is broken.
// The load is paced at --rate but never more than --connections requests in flight (skipped ticks
// are counted), and the L1 cache is small (--cache-max-bytes) so that it is full after warm-up.
// Usage: npm run build && node bench/soak.mjs [--duration-s 600] [--rate 40] [--warmup-s 120]
//        [--window-s 60] [--connections 16] [--out bench/results/soak.json]
// Needs Redis and PostgreSQL (REDIS_URL / DATABASE_URL, defaulting to the local test servers).
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { dropSchema } from '../dist/store/index.js';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '600' },
    rate: { type: 'string', default: '40' },
    'warmup-s': { type: 'string', default: '120' },
    connections: { type: 'string', default: '16' },
    'cache-max-bytes': { type: 'string', default: String(1 << 20) },
    'window-s': { type: 'string', default: '60' },
    'fd-slack': { type: 'string', default: '8' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
});
const DURATION_S = Number(values['duration-s']);
const RATE = Number(values.rate);
const WARMUP_S = Number(values['warmup-s']);
const WINDOW_S = Number(values['window-s']);
const FD_SLACK = Number(values['fd-slack']);
// The client's connections bound the requests in flight, so the gateway's sockets (clients,
// upstream keep-alive pool) are bounded by design: growth beyond that is a leak, not the load.
const CONNECTIONS = Number(values.connections);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = `soak_${Date.now().toString(36)}`;

const machine = machineInfo();
const sim = await startSim({ tps: 400, ttftMs: 20, extra: ['--embed-models', 'nomic-embed-text'] });
const gw = await startGateway(`ollama=${sim.url}`, {
  REDIS_URL,
  DATABASE_URL: `${DATABASE_URL}?schema=${tag}`,
  SUTAZAI_CACHE_PREFIX: `${tag}:`,
  SUTAZAI_TASK_CONCURRENCY: '2',
  SUTAZAI_DEFAULT_NUM_PREDICT: '24',
  // A small L1, full within the warm-up: the response cache grows to its bound by design (64 MiB
  // by default), which would otherwise read as growth for most of a 10-minute run.
  SUTAZAI_CACHE_MAX_BYTES: values['cache-max-bytes'],
});
const pool = new Pool(gw.url, { connections: CONNECTIONS });

// ---- the load: one request every 1/RATE s, of a kind drawn from a fixed mix -----------------
const HOT = Array.from({ length: 50 }, (_, i) => `frequently asked question ${i}`);
let seq = 0;
const counts = {};
let inFlight = 0;
let errors = 0;
let skipped = 0;
const KINDS = [
  [0.35, 'chat-miss'],
  [0.25, 'chat-hit'],
  [0.08, 'stream-v1'],
  [0.08, 'stream-openai'],
  [0.08, 'stream-ollama'],
  [0.1, 'task'],
  [0.06, 'embed'],
];
function pick() {
  let r = Math.random();
  for (const [p, k] of KINDS) if ((r -= p) < 0) return k;
  return 'chat-miss';
}
function requestFor(kind) {
  const n = seq++;
  const json = (path, body) => ({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  switch (kind) {
    case 'chat-miss':
      return json('/api/v1/chat', { message: `soak question ${n}` });
    case 'chat-hit':
      return json('/api/v1/chat', { message: HOT[n % HOT.length] });
    case 'stream-v1':
      return json('/api/v1/chat/stream', { message: `soak stream ${n}` });
    case 'stream-openai':
      return json('/v1/chat/completions', {
        model: 'tinyllama',
        stream: true,
        messages: [{ role: 'user', content: `soak oa ${n}` }],
      });
    case 'stream-ollama':
      return json('/api/chat', { model: 'tinyllama', messages: [{ role: 'user', content: `soak ol ${n}` }] });
    case 'task':
      return json('/api/v1/tasks', { task_type: 'text_generation', payload: { prompt: `soak task ${n}` } });
    default:
      return json('/api/embed', { model: 'nomic-embed-text', input: [`soak embed ${n}`] });
  }
}
async function fire() {
  if (inFlight >= CONNECTIONS) {
    skipped++; // the machine is behind: the rate drops instead of requests piling up
    return;
  }
  const kind = pick();
  inFlight++;
  try {
    const res = await pool.request(requestFor(kind));
    await res.body.text();
    const k = `${kind} ${res.statusCode}`;
    counts[k] = (counts[k] ?? 0) + 1;
    if (res.statusCode >= 500) errors++;
  } catch {
    errors++;
  } finally {
    inFlight--;
  }
}

// ---- sampling ---------------------------------------------------------------------------------
function sampleProc(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      /* closed meanwhile */
    }
  }
  return { rss, fds, sockets };
}
async function heapUsed() {
  try {
    const res = await pool.request({ method: 'GET', path: '/metrics' });
    const text = await res.body.text();
    return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

const samples = [];
const t0 = Date.now();
const load = setInterval(() => void fire(), 1000 / RATE);
const sampler = setInterval(async () => {
  const s = {
    t: Math.round((Date.now() - t0) / 1000),
    ...sampleProc(gw.pid),
    heap: await heapUsed(),
    inFlight,
  };
  samples.push(s);
  if (s.t % 30 === 0)
    console.log(
      `t=${s.t}s rss=${(s.rss / 2 ** 20).toFixed(1)}MiB heap=${(s.heap / 2 ** 20).toFixed(1)}MiB fds=${s.fds} sockets=${s.sockets} inflight=${inFlight} 5xx/err=${errors}`,
    );
}, 1000);
await new Promise((r) => setTimeout(r, DURATION_S * 1000));
clearInterval(load);
clearInterval(sampler);
while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
// Idle descriptors once the load has stopped (keep-alive sockets of the client pool aside).
await new Promise((r) => setTimeout(r, 2000));
const idle = sampleProc(gw.pid);

// ---- verdict ----------------------------------------------------------------------------------
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};
const first = samples.filter((s) => s.t > WARMUP_S && s.t <= WARMUP_S + WINDOW_S);
const last = samples.filter((s) => s.t > DURATION_S - WINDOW_S);
const m = (win, k) => median(win.map((s) => s[k]));
const floor = (win, k) => Math.min(...win.map((s) => s[k]).filter(Number.isFinite));
const growth = (k) => (m(last, k) - m(first, k)) / m(first, k);
// The heap in use between collections follows V8's sizing (a sawtooth whose peaks grow while old
// space is allowed to grow); its floor in a window, after the major collections, is the live set.
const heapFloorGrowth = (floor(last, 'heap') - floor(first, 'heap')) / floor(first, 'heap');
const machineLine = finishMachine(machine);
const result = {
  machine,
  durationS: DURATION_S,
  rate: RATE,
  warmupS: WARMUP_S,
  windowS: WINDOW_S,
  connections: CONNECTIONS,
  requests: counts,
  skipped,
  errors,
  afterWarmup: {
    rss: m(first, 'rss'),
    heap: m(first, 'heap'),
    fds: m(first, 'fds'),
    sockets: m(first, 'sockets'),
  },
  end: { rss: m(last, 'rss'), heap: m(last, 'heap'), fds: m(last, 'fds'), sockets: m(last, 'sockets') },
  idleAfter: idle,
  heapFloor: { afterWarmup: floor(first, 'heap'), end: floor(last, 'heap') },
  growth: { rss: growth('rss'), heapMedian: growth('heap'), heapFloor: heapFloorGrowth },
  samples,
};
const checks = [
  [`RSS growth ${(result.growth.rss * 100).toFixed(1)} % < 5 %`, result.growth.rss < 0.05],
  [`live heap (floor) growth ${(heapFloorGrowth * 100).toFixed(1)} % < 5 %`, heapFloorGrowth < 0.05],
  [
    `descriptors ${result.afterWarmup.fds} → ${result.end.fds} (slack ${FD_SLACK})`,
    result.end.fds <= result.afterWarmup.fds + FD_SLACK,
  ],
  [
    `sockets ${result.afterWarmup.sockets} → ${result.end.sockets} (slack ${FD_SLACK})`,
    result.end.sockets <= result.afterWarmup.sockets + FD_SLACK,
  ],
  [`no 5xx or transport errors (${errors})`, errors === 0],
];
result.checks = Object.fromEntries(checks);
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2));

await pool.close();
await gw.stop();
await sim.stop();
await dropSchema(DATABASE_URL, tag).catch(() => undefined);
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length) await redis.del(...keys);
} while (cursor !== '0');
redis.disconnect();

const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(
  `\nsoak: ${total} requests in ${DURATION_S} s (${(total / DURATION_S).toFixed(1)}/s); ${machineLine}`,
);
for (const [what, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
console.log(`(heap in use, median: ${(result.growth.heapMedian * 100).toFixed(1)} %)`);
console.log(`idle after: fds=${idle.fds} sockets=${idle.sockets}; results in ${values.out}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
