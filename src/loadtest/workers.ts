import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Engine, EngineOptions, MeasuredRun, Tick } from './engine.js';
import { connectStats, type PreconnectRaw } from './pool.js';
import { mergeRecordings } from './recording.js';
import type { RunOutput } from './runner.js';
import type { RunPlan } from './types.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

/** Split n into `parts` integers that differ by at most one. */
export function splitCount(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

/**
 * Worker i's share of a plan: users split evenly; an open-loop rate split evenly with worker i's
 * arrivals shifted by i/rate so the merged schedule stays evenly spaced.
 */
export function splitPlan(plan: RunPlan, parts: number, i: number): RunPlan {
  if (plan.loop === 'closed') {
    return { ...plan, groups: plan.groups.map((g) => ({ ...g, users: splitCount(g.users, parts)[i] ?? 0 })) };
  }
  return {
    ...plan,
    segments: plan.segments.map((s) => ({
      ...s,
      rate: s.rate / parts,
      startMs: s.startMs + (i * 1000) / s.rate,
    })),
  };
}

/**
 * The worker's entry. From compiled JS it is worker-entry.js; from TypeScript sources (tsx,
 * vitest) the worker first registers tsx's loader, since Node 20 does not apply --import hooks
 * to a worker's entry module.
 */
function newWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: init });
  // vitest leaves import.meta.resolve undefined; the require condition points at the .cjs twin.
  const tsx =
    (import.meta.resolve as ((s: string) => string) | undefined)?.('tsx/esm/api') ??
    pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

interface Handle {
  worker: Worker;
  send(m: ToWorker): void;
  next(type: FromWorker['type']): Promise<FromWorker>;
}

function spawn(init: WorkerInit, onTick: (i: number, t: Tick) => void, i: number): Handle {
  const worker = newWorker(init);
  const waiting = new Map<string, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  const failAll = (e: Error): void => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'tick') return onTick(i, m.tick);
    if (m.type === 'error') return failAll(new Error(`load worker ${i}: ${m.message}`));
    const w = waiting.get(m.type);
    waiting.delete(m.type);
    w?.resolve(m);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`load worker ${i} exited (${code})`)));
  return {
    worker,
    send: (m) => worker.postMessage(m),
    next: (type) => new Promise((resolve, reject) => waiting.set(type, { resolve, reject })),
  };
}

/** Merge per-worker generator stats: CPU is process-wide in every thread, so take the maximum. */
function mergeOutputs(outs: RunOutput[]): RunOutput {
  const g = outs.map((o) => o.generator);
  return {
    recording: mergeRecordings(outs.map((o) => o.recording)),
    wallMs: Math.max(...outs.map((o) => o.wallMs)),
    generator: {
      cpuPct: Math.max(...g.map((x) => x.cpuPct)),
      loopDelayP99Ms: Math.max(...g.map((x) => x.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(...g.map((x) => x.loopDelayMaxMs)),
      late: g.reduce((a, x) => a + x.late, 0),
      notSent: g.reduce((a, x) => a + x.notSent, 0),
      maxQueued: g.reduce((a, x) => a + x.maxQueued, 0),
      workers: outs.length,
    },
  };
}

/** Spreads every plan over `n` worker threads, each with its own connection pool. */
export function createWorkerEngine(opts: EngineOptions, n: number): Engine {
  let ticks: (Tick | undefined)[] = [];
  let tickSink: ((t: Tick) => void) | undefined;
  const handles = Array.from({ length: n }, (_, i) => {
    const share = splitCount(opts.maxConnections, n)[i] ?? 1;
    const init: WorkerInit = {
      opts: { ...opts, seed: opts.seed + i * 7919, maxConnections: Math.max(1, share) },
    };
    return spawn(init, (w, t) => (ticks[w] = t), i);
  });
  const flushTicks = (): void => {
    const got = ticks.filter((t): t is Tick => t !== undefined);
    ticks = [];
    if (got.length === 0 || tickSink === undefined) return;
    const lat = new Float64Array(got.reduce((a, t) => a + t.latencies.length, 0));
    let off = 0;
    for (const t of got) {
      lat.set(t.latencies, off);
      off += t.latencies.length;
    }
    tickSink({
      elapsedMs: Math.max(...got.map((t) => t.elapsedMs)),
      done: got.reduce((a, t) => a + t.done, 0),
      errors: got.reduce((a, t) => a + t.errors, 0),
      latencies: lat,
      inflight: got.reduce((a, t) => a + t.inflight, 0),
      queued: got.reduce((a, t) => a + t.queued, 0),
    });
  };
  return {
    async run(plan, connections, onTick, stopped): Promise<MeasuredRun> {
      const conns = splitCount(connections, n);
      const prepared = await Promise.all(
        handles.map((h, i) => {
          const p = h.next('prepared');
          h.send({ type: 'prepare', connections: Math.max(1, conns[i] ?? 1) });
          return p;
        }),
      );
      const raws = prepared.map((m): PreconnectRaw =>
        m.type === 'prepared' ? m.raw : { times: [], failed: 0, elapsedMs: 0 },
      );
      tickSink = onTick;
      const timer = setInterval(() => {
        flushTicks();
        if (stopped?.() === true) for (const h of handles) h.send({ type: 'stop' });
      }, 1000);
      // Start together a little in the future so every worker shares one clock origin.
      const originNs = process.hrtime.bigint() + 20_000_000n;
      try {
        const done = await Promise.all(
          handles.map((h, i) => {
            const p = h.next('done');
            h.send({ type: 'run', plan: splitPlan(plan, n, i), originNs });
            return p;
          }),
        );
        const outs = done
          .map((m) => (m.type === 'done' ? m.out : undefined))
          .filter((o): o is RunOutput => o !== undefined);
        return { ...mergeOutputs(outs), connect: connectStats(raws) };
      } finally {
        clearInterval(timer);
        tickSink = undefined;
      }
    },
    async close() {
      await Promise.all(
        handles.map(async (h) => {
          const p = h.next('closed').catch(() => undefined);
          h.send({ type: 'close' });
          await p;
          await h.worker.terminate();
        }),
      );
    },
  };
}
