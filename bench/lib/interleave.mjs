// Interleaved A/B measurement on a shared machine: `pairs` processes per side (default 2), started
// in the order spare, a1, b1, b2, a2, a3, b3, ... (the spare is warmed but never measured), each with
// its own client connections held open for the whole run; the load moves between them in short
// windows, pair by pair in turn, each pair in both orders. Some processes run 5-15 % slower than
// their twins for their whole life, so more pairs give a steadier median. Why: in A/A runs (the same build on both sides)
// the first process started was 10-15 % slower than the others every time (cause not found) and
// the later of two was ahead by 2-5 %; with this design A/A came out at 0.1 %. Short alternating
// windows on open connections (no 1000-connection storm per window) cancel the machine's drift.
import { openLoad } from './load.mjs';
import { cpuSeconds } from './procs.mjs';

/**
 * `start(side, name)` starts one process of side 'a' or 'b' (name: 'spare', 'a1', ... ) and
 * resolves to `{ url, pid, stop() }`; `prepare(gw, name)` (optional) runs once after it started
 * (e.g. to fill a cache) and may return a stop function (e.g. a poller's). `load` is openLoad's
 * target minus `url`. Returns the measured windows per side, in round order (pairs line up).
 */
export async function interleaved({
  start,
  prepare = async () => undefined,
  load,
  rounds,
  pairs = 2,
  durationMs,
  warmupMs = 500,
  /** How the sides are named in the progress lines (stderr), e.g. { a: 'base', b: 'this' }. */
  labels = { a: 'a', b: 'b' },
}) {
  const log = (line) => process.stderr.write(`${line}\n`);
  const shown = (name) => (name === 'spare' ? name : `${labels[name[0]]}${name.slice(1)}`);
  const procs = {};
  const loads = {};
  const stops = [];
  const runs = { a: [], b: [] };
  async function measure(name, ms, warm) {
    const gw = procs[name];
    let cpu0 = 0;
    let cpuS = 0;
    const res = await loads[name].measure({
      durationMs: ms,
      warmupMs: warm,
      onWindow: {
        open: () => (cpu0 = cpuSeconds(gw.pid)),
        close: () => (cpuS = cpuSeconds(gw.pid) - cpu0),
      },
    });
    return {
      process: name,
      ...res,
      cpuS,
      cpuUsPerRequest: (cpuS * 1e6) / Math.max(1, res.requests),
    };
  }
  try {
    const order = ['spare'];
    for (let j = 1; j <= pairs; j++) order.push(...(j % 2 ? [`a${j}`, `b${j}`] : [`b${j}`, `a${j}`]));
    for (const name of order) {
      procs[name] = await start(name === 'spare' ? 'a' : name[0], name);
      const stop = await prepare(procs[name], name);
      if (stop) stops.push(stop);
      loads[name] = openLoad({ ...load, url: procs[name].url });
      const w = await measure(name, 3000, 2000);
      log(
        `warm-up ${shown(name).padEnd(6)}: ${w.rps.toFixed(0)} req/s, ${w.connected} connections opened in ${w.connectMs} ms (not counted)`,
      );
    }
    for (let r = 0; r < rounds; r++) {
      const k = (r % pairs) + 1;
      for (const side of Math.floor(r / pairs) % 2 === 0 ? ['a', 'b'] : ['b', 'a']) {
        const res = await measure(`${side}${k}`, durationMs, warmupMs);
        runs[side].push(res);
        log(
          `round ${r + 1} ${shown(res.process)}: ${res.rps.toFixed(0)} req/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  CPU ${res.cpuUsPerRequest.toFixed(1)} µs/req  errors ${res.errors} non2xx ${res.non2xx}`,
        );
      }
    }
  } finally {
    for (const stop of stops) await stop();
    for (const l of Object.values(loads)) await l.close();
    for (const gw of Object.values(procs)) await gw.stop();
  }
  return runs;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};

/** Medians per side and of the per-pair ratios b/a (throughput and CPU per request). */
export function compare(runs) {
  const side = (xs) => ({
    rps: median(xs.map((x) => x.rps)),
    p50: median(xs.map((x) => x.p50)),
    p99: median(xs.map((x) => x.p99)),
    errors: xs.reduce((n, x) => n + x.errors + x.non2xx, 0),
    cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest)),
  });
  const pairs = runs.b.map((b, i) => ({
    throughputRatio: b.rps / runs.a[i].rps,
    cpuRatio: b.cpuUsPerRequest / runs.a[i].cpuUsPerRequest,
  }));
  return {
    a: side(runs.a),
    b: side(runs.b),
    pairs,
    throughputRatio: median(pairs.map((p) => p.throughputRatio)),
    cpuRatio: median(pairs.map((p) => p.cpuRatio)),
  };
}
