// A closed-loop HTTP load generator that times every request with process.hrtime
// (wrk's latency figures were found inconsistent on these machines; autocannon rounds to ms).
import { Pool } from 'undici';

/**
 * A load driver that keeps its `connections` keep-alive connections open between measurements,
 * so one can alternate short windows between targets (each with its own driver) without paying
 * the connection storm every time: a busy Node process accepts only ~50-95 new connections a
 * second. `measure()` runs one worker per connection, each sending requests back-to-back, opens
 * every connection first (the first time), warms up, then records for `durationMs`.
 */
export function openLoad({ url, method = 'GET', path = '/', body, headers = {}, connections, check }) {
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const reqHeaders = body ? { 'content-type': 'application/json', ...headers } : headers;
  // `body` may be a function: called per request (e.g. a distinct prompt each time).
  const fixed = typeof body === 'function' ? undefined : body;
  const payload = fixed ? (typeof fixed === 'string' ? fixed : JSON.stringify(fixed)) : undefined;
  const payloadOf = typeof body === 'function' ? () => JSON.stringify(body()) : () => payload;
  let connectMs;

  async function measure({
    durationMs,
    warmupMs = 1000,
    /** Called right when the measured window opens and closes (e.g. to read a process's CPU time). */
    onWindow = { open() {}, close() {} },
  }) {
    let recording = false;
    let stop = false;
    const samples = [];
    let errors = 0;
    let non2xx = 0;
    let count = 0;
    let completed = 0;
    async function one() {
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({ method, path, headers: reqHeaders, body: payloadOf() });
        const text = await res.body.text();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        completed++;
        if (res.statusCode >= 300) non2xx++;
        else if (check && !check(text)) errors++;
        if (recording) {
          samples.push(ms);
          count++;
        }
      } catch {
        errors++;
      }
    }
    async function worker() {
      while (!stop) await one();
    }
    const workers = Array.from({ length: connections }, worker);
    if (connectMs === undefined) {
      const connectStart = Date.now();
      while (pool.stats.connected < connections && Date.now() - connectStart < 60_000) await sleep(50);
      connectMs = Date.now() - connectStart;
    }
    await sleep(warmupMs);
    const cpu0 = process.cpuUsage();
    onWindow.open();
    const t0 = process.hrtime.bigint();
    recording = true;
    await sleep(durationMs);
    recording = false;
    onWindow.close();
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    stop = true;
    await Promise.all(workers);
    samples.sort((a, b) => a - b);
    return {
      connections,
      connected: pool.stats.connected,
      connectMs,
      requests: count,
      /** Every response received, warm-up included (for per-request CPU over a whole profile). */
      completed,
      rps: count / elapsed,
      p50: pct(samples, 50),
      p90: pct(samples, 90),
      p99: pct(samples, 99),
      max: samples.at(-1) ?? 0,
      errors,
      non2xx,
      loadgenCpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
    };
  }

  return { measure, close: () => pool.close() };
}

/** One measurement on fresh connections (opened before the window): see openLoad. */
export async function runLoad({ durationMs, warmupMs, onWindow, ...target }) {
  const load = openLoad(target);
  try {
    return await load.measure({ durationMs, warmupMs, onWindow });
  } finally {
    await load.close();
  }
}

/** Nearest-rank percentile of sorted samples. */
export function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
