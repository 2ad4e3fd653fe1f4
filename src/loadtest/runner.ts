import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { executeRequest, msSince, type ExecContext } from './execute.js';
import type { Connections } from './pool.js';
import type { HttpConnection } from './raw-http.js';
import { createRecorder, type Recorder, type Recording } from './recording.js';
import type { GeneratorStats, RateSegment, RequestKind, RequestResult, RunPlan, UserGroup } from './types.js';

/** What a run needs besides its plan. */
export interface RunDeps {
  exec: ExecContext;
  conns: Connections;
  pick: () => RequestKind;
  prompt: (kind: RequestKind) => string;
  rng: () => number;
  /** Closed loop: mean think time between a user's requests, ms (0 = none). */
  thinkMs: number;
  /** Closed loop: think time varies uniformly by +/- this fraction (0-1). */
  thinkJitter: number;
  /** Open loop: arrivals beyond this many in flight are recorded as not_sent. */
  maxInflight: number;
  /** Open loop: an arrival dispatched more than this late counts as late. */
  lateMs: number;
  /** Shared clock origin (hrtime ns); defaults to the run's start. */
  originNs?: bigint;
  /** Called about once a second while running. */
  onTick?: (view: TickView) => void;
  /** Set to stop early (Ctrl-C): no new requests; in-flight ones finish. */
  stopped?: () => boolean;
}

export interface TickView {
  elapsedMs: number;
  recorder: Recorder;
  inflight: number;
  queued: number;
}

export interface RunOutput {
  recording: Recording;
  generator: GeneratorStats;
  /** Wall time until the last request finished, ms. */
  wallMs: number;
}

/** From the request's start to its last byte read (or to now, when that is unknown). */
function latencyMs(t0: bigint, r: RequestResult): number {
  return r.endNs !== undefined ? msSince(t0, r.endNs) : msSince(t0);
}

interface Counters {
  inflight: number;
  late: number;
  notSent: number;
  maxQueued: number;
}

async function closedUser(
  g: UserGroup,
  conn: HttpConnection,
  deps: RunDeps,
  rec: Recorder,
  origin: bigint,
  c: Counters,
): Promise<void> {
  const now = (): number => msSince(origin);
  const stop = (): boolean => now() >= g.stopMs || deps.stopped?.() === true;
  // Stagger the first request over one think time so users do not march in lock-step.
  const firstAt = g.startMs + (deps.thinkMs > 0 ? deps.rng() * deps.thinkMs : 0);
  if (firstAt > now()) await sleep(firstAt - now());
  while (!stop()) {
    const kind = deps.pick();
    const t0 = process.hrtime.bigint();
    const startMs = msSince(origin, t0);
    c.inflight++;
    const r = await executeRequest(deps.exec, conn, kind, deps.prompt(kind), t0);
    c.inflight--;
    rec.add(kind, startMs, latencyMs(t0, r), r);
    if (deps.thinkMs > 0) {
      const think = deps.thinkMs * (1 - deps.thinkJitter + 2 * deps.thinkJitter * deps.rng());
      const left = g.stopMs - now();
      if (left > 0) await sleep(Math.min(think, left));
    }
  }
}

function runClosed(
  groups: UserGroup[],
  deps: RunDeps,
  rec: Recorder,
  origin: bigint,
  c: Counters,
): Promise<void> {
  const users: Promise<void>[] = [];
  // Each user owns one connection for the whole run: user n of the plan uses connection n.
  let n = 0;
  for (const g of groups) {
    for (let i = 0; i < g.users; i++) users.push(closedUser(g, deps.conns.client(n++), deps, rec, origin, c));
  }
  return Promise.all(users).then(() => undefined);
}

/**
 * Open loop: arrival k of a segment is due at startMs + k * 1000/rate, whatever happened to
 * earlier requests. A timer dispatches every arrival that is due; latency is measured from the
 * scheduled time, so a late dispatch or a wait for a free connection shows up as latency
 * (no coordinated omission).
 */
function runOpen(
  segments: RateSegment[],
  deps: RunDeps,
  rec: Recorder,
  origin: bigint,
  c: Counters,
): Promise<void> {
  const segs = segments.map((s) => ({
    ...s,
    next: 0,
    intervalMs: 1000 / s.rate,
    total: s.rate > 0 ? Math.ceil(((s.stopMs - s.startMs) * s.rate) / 1000) : 0,
  }));
  return new Promise((resolve) => {
    let dispatching = true;
    const maybeDone = (): void => {
      if (!dispatching && c.inflight === 0) resolve();
    };
    const launch = (schedMs: number, nowMs: number): void => {
      const kind = deps.pick();
      if (c.inflight >= deps.maxInflight) {
        c.notSent++;
        rec.addNotSent(kind, schedMs);
        return;
      }
      if (nowMs - schedMs > deps.lateMs) c.late++;
      c.inflight++;
      const t0 = origin + BigInt(Math.round(schedMs * 1e6));
      const prompt = deps.prompt(kind);
      void deps.conns
        .acquire()
        .then(async (conn) => {
          try {
            return await executeRequest(deps.exec, conn, kind, prompt, t0);
          } finally {
            deps.conns.release(conn);
          }
        })
        .then((r) => {
          rec.add(kind, schedMs, latencyMs(t0, r), r);
          c.inflight--;
          maybeDone();
        });
    };
    const tick = (): void => {
      const now = msSince(origin);
      let nextDue = Number.POSITIVE_INFINITY;
      const stop = deps.stopped?.() === true;
      for (const s of segs) {
        while (!stop && s.next < s.total) {
          const due = s.startMs + s.next * s.intervalMs;
          if (due > now) {
            nextDue = Math.min(nextDue, due);
            break;
          }
          s.next++;
          launch(due, now);
        }
      }
      if (nextDue === Number.POSITIVE_INFINITY) {
        dispatching = false;
        maybeDone();
        return;
      }
      setTimeout(tick, Math.max(0, Math.min(50, nextDue - msSince(origin))));
    };
    tick();
  });
}

/** Execute one plan and record every request. */
export async function runPlan(plan: RunPlan, deps: RunDeps): Promise<RunOutput> {
  const rec = createRecorder();
  const c: Counters = { inflight: 0, late: 0, notSent: 0, maxQueued: 0 };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const origin = deps.originNs ?? wall0;
  const sampler = setInterval(() => {
    c.maxQueued = Math.max(c.maxQueued, deps.conns.queued());
  }, 100);
  const ticker = setInterval(() => {
    deps.onTick?.({
      elapsedMs: msSince(origin),
      recorder: rec,
      inflight: c.inflight,
      queued: deps.conns.queued(),
    });
  }, 1000);
  try {
    if (plan.loop === 'closed') await runClosed(plan.groups, deps, rec, origin, c);
    else await runOpen(plan.segments, deps, rec, origin, c);
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    loop.disable();
  }
  const wallMs = msSince(wall0);
  const cpu = process.cpuUsage(cpu0);
  return {
    recording: rec.finish(),
    wallMs,
    generator: {
      cpuPct: ((cpu.user + cpu.system) / 1000 / Math.max(1, wallMs)) * 100,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      late: c.late,
      notSent: c.notSent,
      maxQueued: c.maxQueued,
      workers: 1,
    },
  };
}
