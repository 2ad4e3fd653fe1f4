// Overload (issue 20): N closed-loop clients send unique prompts (POST /api/chat, stream:false)
// to a simulator with Ollama-like capacity (--parallel 4 --max-queue 512 --tps 50 --tokens 25
// --ttft-ms 50, about 7.3 answers/s), straight to it and through the gateway (cache off,
// admission on with the simulator's 4 slots), at 300 and 1000 clients, in one run.
//
// Every client honours Retry-After on a 503 (retry-after-ms when present, as the OpenAI clients
// do; 1 s when a 503 carries neither) and then asks again, as a well-behaved client does. Each request is timed here with hrtime; every connection is
// opened before the measured window. Reported per run: goodput (answers/s and completion tokens/s
// in the window), answered requests that took longer than the queue bound plus one service time,
// rejection latency, how many clients got at least one answer, the gateway's peak RSS.
//
//   npm run build && node bench/overload.mjs [--clients 300,1000] [--duration 40] [--warmup 5]
//                      [--bound-ms 10000] [--abba] [--out bench/results/overload.json]
// --abba runs direct, gateway, gateway, direct for each client count and compares the means.
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { startGateway, startSim } from './lib/procs.mjs';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '300,1000' },
    duration: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '5' },
    'bound-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: 'bench/results/overload.json' },
    abba: { type: 'boolean', default: false },
  },
});
const CLIENTS = args.clients.split(',').map(Number);
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const BOUND_MS = Number(args['bound-ms']);
const SIM = { parallel: 4, maxQueue: 512, tps: 50, tokens: 25, ttftMs: 50 };
/** One answer's service time on the simulator: first token, then the rest at tps. */
const SERVICE_MS = SIM.ttftMs + (SIM.tokens / SIM.tps) * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Mean goodput of several runs of one side. */
const mean = (rs) => ({
  answersPerS: rs.reduce((s, r) => s + r.answersPerS, 0) / rs.length,
  tokensPerS: rs.reduce((s, r) => s + r.tokensPerS, 0) / rs.length,
});
const now = () => Number(process.hrtime.bigint()) / 1e6;
const quantile = (sorted, q) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function startSide(target, dataDir) {
  const sim = await startSim({
    tps: SIM.tps,
    ttftMs: SIM.ttftMs,
    extra: [
      '--parallel',
      String(SIM.parallel),
      '--max-queue',
      String(SIM.maxQueue),
      '--tokens',
      String(SIM.tokens),
    ],
  });
  if (target === 'direct') return { url: sim.url, pid: undefined, stop: sim.stop };
  const gw = await startGateway(`ollama=${sim.url}`, {
    SUTAZAI_CACHE_MODE: 'off',
    SUTAZAI_UPSTREAM_SLOTS: String(SIM.parallel),
    SUTAZAI_QUEUE_TIMEOUT_MS: String(BOUND_MS),
    SUTAZAI_TASK_CONCURRENCY: '0',
    SUTAZAI_DATA_DIR: dataDir,
  });
  return {
    url: gw.url,
    pid: gw.pid,
    async stop() {
      await gw.stop();
      await sim.stop();
    },
  };
}

async function run(target, clients, dataDir) {
  const side = await startSide(target, dataDir);
  const pool = new Pool(side.url, { connections: clients, pipelining: 1, keepAliveTimeout: 120_000 });
  // Open every connection first: a busy Node process accepts only so many new ones a second.
  await Promise.all(
    Array.from({ length: clients }, () =>
      pool.request({ method: 'GET', path: '/api/version' }).then((r) => r.body.text()),
    ),
  );
  const connected = pool.stats.connected;
  const idleRss = side.pid ? rssMiB(side.pid) : Number.NaN;
  let seq = 0;
  let stop = false;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const answers = []; // [endMs, latencyMs, tokens]
  const rejections = []; // [endMs, latencyMs, retryAfterS]
  const errors = [];
  const answeredClients = new Set();
  const attemptsPerAnswer = [];
  let peakRss = 0;
  const rssTimer = side.pid
    ? setInterval(() => {
        peakRss = Math.max(peakRss, rssMiB(side.pid));
      }, 250)
    : undefined;

  async function client(id) {
    let attempts = 0;
    while (!stop) {
      const body = JSON.stringify({
        model: 'tinyllama',
        stream: false,
        messages: [{ role: 'user', content: `client ${id} question ${++seq} ${Math.random()}` }],
      });
      const t0 = now();
      attempts++;
      let res;
      let text;
      try {
        res = await pool.request({
          method: 'POST',
          path: '/api/chat',
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: 0,
          bodyTimeout: 0,
        });
        text = await res.body.text();
      } catch (err) {
        if (!stop) errors.push(String(err?.code ?? err));
        await sleep(1000);
        continue;
      }
      const t1 = now();
      if (res.statusCode === 200) {
        const tokens = JSON.parse(text).eval_count ?? 0;
        const queued = /queue;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
        answers.push([t1, t1 - t0, tokens, queued ? Number(queued[1]) : 0]);
        if (t1 >= windowStart && t1 < windowEnd) answeredClients.add(id);
        attemptsPerAnswer.push(attempts);
        attempts = 0;
      } else if (res.statusCode === 503 || res.statusCode === 429) {
        // As the OpenAI clients do: retry-after-ms when present, else Retry-After (seconds).
        const raMs = Number(res.headers['retry-after-ms']);
        const ra = Number.isFinite(raMs) && raMs > 0 ? raMs / 1000 : Number(res.headers['retry-after']);
        rejections.push([t1, t1 - t0, ra]);
        await sleep((Number.isFinite(ra) && ra > 0 ? ra : 1) * 1000);
      } else {
        errors.push(`status ${res.statusCode}`);
        await sleep(1000);
      }
    }
  }

  const started = now();
  const loops = Array.from({ length: clients }, (_, i) => client(i));
  windowStart = started + WARMUP_S * 1000;
  windowEnd = windowStart + DURATION_S * 1000;
  await sleep(WARMUP_S * 1000 + DURATION_S * 1000);
  stop = true;
  if (rssTimer) clearInterval(rssTimer);
  // Answers still in flight are not waited for: a direct run may have hundreds queued for 40 s+.
  await side.stop();
  await pool.destroy().catch(() => {});
  await Promise.race([Promise.allSettled(loops), sleep(2000)]);

  const inWindow = (rows) => rows.filter(([t]) => t >= windowStart && t < windowEnd);
  const ans = inWindow(answers);
  const rej = inWindow(rejections);
  const lat = ans.map(([, ms]) => ms).sort((a, b) => a - b);
  const rejLat = rej.map(([, ms]) => ms).sort((a, b) => a - b);
  const tooLong = ans.filter(([, ms]) => ms > BOUND_MS + SERVICE_MS).length;
  const queueWaits = ans.map(([, , , q]) => q).sort((a, b) => a - b);
  const attempts = attemptsPerAnswer.slice().sort((a, b) => a - b);
  return {
    target,
    clients,
    connected,
    answers: ans.length,
    answersPerS: ans.length / DURATION_S,
    tokensPerS: ans.reduce((s, [, , t]) => s + t, 0) / DURATION_S,
    latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat.at(-1) ?? null },
    answeredLongerThanBoundPlusService: tooLong,
    /** The gateway's own figure (Server-Timing `queue`): time answered requests waited for a slot. */
    queueWaitMs:
      target === 'gateway' ? { p50: quantile(queueWaits, 0.5), max: queueWaits.at(-1) ?? null } : null,
    queuedLongerThanBound: target === 'gateway' ? queueWaits.filter((q) => q > BOUND_MS).length : null,
    rejections: rej.length,
    rejectionMs: { p50: quantile(rejLat, 0.5), p99: quantile(rejLat, 0.99), max: rejLat.at(-1) ?? null },
    retryAfterS: {
      p50: quantile(
        rej.map(([, , r]) => r).sort((a, b) => a - b),
        0.5,
      ),
    },
    clientsAnsweredInWindow: answeredClients.size,
    attemptsPerAnswer: {
      p50: quantile(attempts, 0.5),
      p99: quantile(attempts, 0.99),
      max: attempts.at(-1) ?? null,
    },
    errors: errors.length,
    errorKinds: [...new Set(errors)].slice(0, 5),
    gatewayPeakRssMiB: side.pid ? Math.round(peakRss * 10) / 10 : null,
    gatewayIdleRssMiB: side.pid ? Math.round(idleRss * 10) / 10 : null,
  };
}

const machine = machineInfo();
const uptimeBefore = execSync('uptime').toString().trim();
const dataDir = mkdtempSync(path.join(tmpdir(), 'sutazai-overload-'));
const results = [];
try {
  for (const clients of CLIENTS) {
    // direct, gateway, gateway, direct (with --abba): a machine that slows down during the run
    // weighs on both sides alike.
    const order = args.abba ? ['direct', 'gateway', 'gateway', 'direct'] : ['direct', 'gateway'];
    for (const target of order) {
      const r = await run(target, clients, dataDir);
      results.push(r);
      const f = (x) => (x === null ? '-' : x.toFixed(1));
      console.log(
        `${target.padEnd(7)} ${String(clients).padStart(4)} clients: ${r.answersPerS.toFixed(2)} answers/s, ` +
          `${r.tokensPerS.toFixed(1)} tokens/s, latency p50 ${f(r.latencyMs.p50)} ms p99 ${f(r.latencyMs.p99)} ms, ` +
          `>bound+service ${r.answeredLongerThanBoundPlusService}, rejections ${r.rejections} ` +
          `(p99 ${f(r.rejectionMs.p99)} ms), clients answered ${r.clientsAnsweredInWindow}/${clients}, ` +
          `errors ${r.errors}` +
          (r.queueWaitMs
            ? `, queue wait max ${f(r.queueWaitMs.max)} ms (>bound ${r.queuedLongerThanBound}), ` +
              `gateway RSS ${r.gatewayIdleRssMiB} MiB idle, ${r.gatewayPeakRssMiB} MiB peak`
            : ''),
      );
    }
    const mine = results.filter((r) => r.clients === clients);
    const d = mean(mine.filter((r) => r.target === 'direct'));
    const g = mean(mine.filter((r) => r.target === 'gateway'));
    console.log(
      `  goodput gateway/direct at ${clients}: answers ${((100 * g.answersPerS) / d.answersPerS).toFixed(1)} %, ` +
        `tokens ${((100 * g.tokensPerS) / d.tokensPerS).toFixed(1)} %`,
    );
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const summary = finishMachine(machine);
const uptimeAfter = execSync('uptime').toString().trim();
console.log(summary);
console.log(`uptime before: ${uptimeBefore}\nuptime after:  ${uptimeAfter}`);
const commit = execSync('git rev-parse --short HEAD').toString().trim();
writeFileSync(
  args.out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      commit,
      machine,
      uptime: { before: uptimeBefore, after: uptimeAfter },
      sim: SIM,
      serviceMs: SERVICE_MS,
      boundMs: BOUND_MS,
      durationS: DURATION_S,
      abba: args.abba,
      warmupS: WARMUP_S,
      results,
      ratios: CLIENTS.map((clients) => {
        const d = mean(results.filter((r) => r.target === 'direct' && r.clients === clients));
        const g = mean(results.filter((r) => r.target === 'gateway' && r.clients === clients));
        return { clients, answers: g.answersPerS / d.answersPerS, tokens: g.tokensPerS / d.tokensPerS };
      }),
    },
    null,
    2,
  )}\n`,
);
console.log(`results: ${args.out}`);
