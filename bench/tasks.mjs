#!/usr/bin/env node
// Issue 5 benchmark: background tasks through BullMQ with 1, 2 and 4 `sutazai worker` processes.
// A gateway (taskConcurrency 0: it only accepts tasks) takes POST /api/v1/tasks while the workers
// drain the queue against a zero-latency simulator (response cache off, so every task reaches it).
// Per worker count, two phases:
//  1. saturation: --tasks tasks submitted by --submitters closed-loop lanes while the workers drain
//     them: throughput = completed / (last finished_at − first started_at); POST latency under load.
//  2. paced: open-loop submissions at --paced-load × that throughput for --paced-s seconds:
//     end-to-end latency (finished_at − created_at, from the task records) and POST latency
//     p50/p99 with the workers busy but not behind a backlog.
// Needs Redis and PostgreSQL (REDIS_URL / DATABASE_URL, defaulting to the local test servers).
// Usage: npm run build && node bench/tasks.mjs [--tasks 10000] [--workers 1,2,4] [--concurrency 16]
//        [--submitters 16] [--paced-load 0.5] [--paced-s 10] [--worker-nice N (default: the
//        worker's own default, SUTAZAI_WORKER_NICE=19)] [--out bench/results/tasks.json]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { dropSchema } from '../dist/store/index.js';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, startGateway, startSim } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '16' },
    submitters: { type: 'string', default: '16' },
    'paced-load': { type: 'string', default: '0.5' },
    'paced-s': { type: 'string', default: '10' },
    'worker-nice': { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/tasks.json' },
  },
});
const TASKS = Number(values.tasks);
const WORKER_COUNTS = values.workers.split(',').map(Number);
const CONCURRENCY = Number(values.concurrency);
const SUBMITTERS = Number(values.submitters);
const PACED_LOAD = Number(values['paced-load']);
const PACED_S = Number(values['paced-s']);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const tag = `bench_tasks_${Date.now().toString(36)}`;
const env = {
  REDIS_URL,
  DATABASE_URL: `${DATABASE_URL}?schema=${tag}`,
  SUTAZAI_CACHE_PREFIX: `${tag}:`,
  SUTAZAI_CACHE_MODE: 'off',
  SUTAZAI_METRICS: 'false',
  SUTAZAI_DEFAULT_NUM_PREDICT: '8',
};

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;
const f = (n, d = 1) => Number(n).toFixed(d);

async function startWorker(upstream) {
  const child = spawn(process.execPath, [CLI, 'worker', '--upstream', upstream], {
    env: {
      ...process.env,
      ...env,
      SUTAZAI_LOG_LEVEL: 'info',
      SUTAZAI_TASK_CONCURRENCY: String(CONCURRENCY),
      ...(values['worker-nice'] !== '' ? { SUTAZAI_WORKER_NICE: values['worker-nice'] } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += b.toString();
      if (out.includes('consuming background tasks')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${out}`)));
  });
  child.stdout.resume();
  return {
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function json(pool, method, path, body, headers = {}) {
  const res = await pool.request({
    method,
    path,
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.body.json();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${JSON.stringify(data)}`);
  return data;
}

/** Run `fn(i)` for i in [0, n) with `lanes` in flight. */
async function lanes(n, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Submit tasks; returns their ids and the client-side latency of each POST (ms). */
async function submitClosedLoop(pool, n, width, label) {
  const ids = new Array(n);
  const ms = [];
  await lanes(n, width, async (i) => {
    const s = process.hrtime.bigint();
    const t = await json(pool, 'POST', '/api/v1/tasks', {
      task_type: 'text_generation',
      payload: { prompt: `${label} ${i}` },
      priority: i % 11,
    });
    ms.push(Number(process.hrtime.bigint() - s) / 1e6);
    ids[i] = t.task_id;
  });
  return { ids, ms };
}

/** Open loop: one submission every 1/rate s regardless of how long earlier ones take. */
async function submitPaced(pool, n, rate, label) {
  const ids = new Array(n);
  const ms = [];
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const s = process.hrtime.bigint();
        const t = await json(pool, 'POST', '/api/v1/tasks', {
          task_type: 'text_generation',
          payload: { prompt: `${label} ${i}` },
        });
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
        ids[i] = t.task_id;
      })(),
    );
  }
  await Promise.all(pending);
  return { ids, ms };
}

async function drained(pool) {
  for (;;) {
    const s = await json(pool, 'GET', '/api/v1/tasks/stats');
    if (s.depth.high + s.depth.normal + s.depth.low + s.active + s.delayed === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Read every task back: e2e latencies (finished − created) and the first start / last finish. */
async function records(pool, ids) {
  const e2e = [];
  let firstStart = Infinity;
  let lastFinish = 0;
  let notCompleted = 0;
  await lanes(ids.length, 32, async (i) => {
    const t = await json(pool, 'GET', `/api/v1/tasks/${ids[i]}`);
    if (t.status !== 'completed') {
      notCompleted++;
      return;
    }
    const fin = Date.parse(t.finished_at);
    firstStart = Math.min(firstStart, Date.parse(t.started_at));
    lastFinish = Math.max(lastFinish, fin);
    e2e.push(fin - Date.parse(t.created_at));
  });
  return { e2e: e2e.sort((a, b) => a - b), firstStart, lastFinish, notCompleted };
}

const summary = (sorted) => ({ p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted.at(-1) ?? 0 });

async function runOne(gwUrl, simUrl, workerCount) {
  const pool = new Pool(gwUrl, { connections: 64 });
  const workers = [];
  for (let i = 0; i < workerCount; i++) workers.push(await startWorker(`ollama=${simUrl}`));
  try {
    const warm = await submitClosedLoop(pool, 50, 8, 'warm');
    await drained(pool);
    await records(pool, warm.ids);

    // 1. Saturation: TASKS submitted as fast as SUBMITTERS lanes allow while the workers drain.
    const sat = await submitClosedLoop(pool, TASKS, SUBMITTERS, `sat-${workerCount}`);
    await drained(pool);
    const satRec = await records(pool, sat.ids);
    const throughput = satRec.e2e.length / ((satRec.lastFinish - satRec.firstStart) / 1000);

    // 2. Paced: open-loop at half that throughput, so latency is not just queueing behind a backlog.
    const rate = Math.max(1, Math.round(throughput * PACED_LOAD));
    const pacedN = Math.max(50, Math.round(rate * PACED_S));
    // The gateway's own event-loop delay, sampled once a second (GET /api/v1/status reports the last
    // second's p99 and max; no-cache skips its 10 s route cache): tells a stalled gateway loop
    // apart from a slow Redis in the submit tail.
    const loop = [];
    const sampler = setInterval(() => {
      json(pool, 'GET', '/api/v1/status', undefined, { 'cache-control': 'no-cache' })
        .then((st) => loop.push(st.event_loop))
        .catch(() => {});
    }, 1000);
    const paced = await submitPaced(pool, pacedN, rate, `paced-${workerCount}`).finally(() =>
      clearInterval(sampler),
    );
    await drained(pool);
    const pacedRec = await records(pool, paced.ids);

    return {
      workers: workerCount,
      concurrencyPerWorker: CONCURRENCY,
      saturation: {
        tasks: TASKS,
        submitters: SUBMITTERS,
        completed: satRec.e2e.length,
        notCompleted: satRec.notCompleted,
        throughputPerS: throughput,
        e2eMs: summary(satRec.e2e),
        submitMs: summary(sat.ms.sort((a, b) => a - b)),
      },
      paced: {
        ratePerS: rate,
        tasks: pacedN,
        completed: pacedRec.e2e.length,
        notCompleted: pacedRec.notCompleted,
        e2eMs: summary(pacedRec.e2e),
        submitMs: summary(paced.ms.sort((a, b) => a - b)),
        gatewayLoopLagMs: {
          worstSecondP99: Math.max(0, ...loop.map((l) => l.lag_p99_ms)),
          max: Math.max(0, ...loop.map((l) => l.lag_max_ms ?? 0)),
          seconds: loop.length,
        },
      },
    };
  } finally {
    for (const w of workers) await w.stop();
    await pool.close();
  }
}

const machine = machineInfo();
const sim = await startSim();
const gw = await startGateway(`ollama=${sim.url}`, { ...env, SUTAZAI_TASK_CONCURRENCY: '0' });
const results = [];
try {
  for (const n of WORKER_COUNTS) {
    const r = await runOne(gw.url, sim.url, n);
    results.push(r);
    const a = r.saturation;
    const b = r.paced;
    console.log(
      `workers=${n}: saturation ${f(a.throughputPerS)} tasks/s, submit p99 ${f(a.submitMs.p99, 2)} ms (${a.completed}/${a.tasks}); ` +
        `paced ${b.ratePerS}/s: e2e p50 ${f(b.e2eMs.p50, 0)} ms p99 ${f(b.e2eMs.p99, 0)} ms, submit p50 ${f(b.submitMs.p50, 2)} p99 ${f(b.submitMs.p99, 2)} ms; gateway loop lag worst-second p99 ${f(b.gatewayLoopLagMs.worstSecondP99, 1)} max ${f(b.gatewayLoopLagMs.max, 1)} ms`,
    );
  }
} finally {
  await gw.stop();
  await sim.stop();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await dropSchema(DATABASE_URL, tag);
}

const machineLine = finishMachine(machine);
const report = {
  date: new Date().toISOString(),
  machine,
  results,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  '\n| workers | tasks/s (saturated) | submit p99 ms (saturated) | paced rate /s | e2e p50 ms | e2e p99 ms | submit p50 ms | submit p99 ms |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const { workers, saturation: a, paced: b } of results) {
  console.log(
    `| ${workers} | ${f(a.throughputPerS)} | ${f(a.submitMs.p99, 2)} | ${b.ratePerS} | ${f(b.e2eMs.p50, 0)} | ${f(b.e2eMs.p99, 0)} | ${f(b.submitMs.p50, 2)} | ${f(b.submitMs.p99, 2)} |`,
  );
}
console.log(`\n${machineLine}; written to ${values.out}`);
