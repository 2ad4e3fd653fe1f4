import type { LoadtestConfig } from './config.js';
import type { Engine, MeasuredRun, Tick } from './engine.js';
import type { Recording } from './recording.js';
import type { EnduranceSummary, Report, StageReport } from './report.js';
import type { ServerSample } from './server-metrics.js';
import { combineSlo, evaluateRecovery, evaluateSlo, labelSlo } from './slo.js';
import { detectRecovery } from './spike.js';
import { sliceStats, timeSeries, type TimeSeries } from './stats.js';
import type { RunPlan, SloResult, TargetMode } from './types.js';

/** What a scenario needs from the CLI: engines, progress display and the stop flag. */
export interface ScenarioContext {
  cfg: LoadtestConfig;
  makeEngine(url: string, target: TargetMode, maxConnections: number): Engine;
  onTick(label: string, t: Tick): void;
  stopped(): boolean;
  /** Memory samples read so far from the server (for endurance). */
  serverSamples(): ServerSample[];
}

export type ScenarioResult = Pick<
  Report,
  'stages' | 'timeline' | 'overall' | 'spike' | 'endurance' | 'overhead'
> & {
  slo: SloResult;
  errorDetails: Record<string, string[]>;
};

/**
 * Concatenates per-run time series onto one timeline (seconds since the scenario began). Each run
 * is charted over its planned duration; completions while in-flight requests drain afterwards are
 * in the statistics but not on the chart (a partial last bucket would read as a throughput dip).
 */
export function createTimeline(bucketMs = 1000): {
  add(rec: Recording, durationMs: number, offsetS: number): void;
  series: TimeSeries;
} {
  const series: TimeSeries = { bucketMs, t: [], okRps: [], errRps: [], p50: [], p99: [] };
  return {
    series,
    add(rec, durationMs, offsetS) {
      const ts = timeSeries(rec, durationMs, bucketMs);
      series.t.push(...ts.t.map((t) => Math.round((t + offsetS) * 1000) / 1000));
      series.okRps.push(...ts.okRps);
      series.errRps.push(...ts.errRps);
      series.p50.push(...ts.p50);
      series.p99.push(...ts.p99);
    },
  };
}

export function mergeDetails(into: Record<string, string[]>, from: Record<string, string[]>): void {
  for (const [k, list] of Object.entries(from)) {
    const l = (into[k] ??= []);
    for (const d of list) if (l.length < 5 && !l.includes(d)) l.push(d);
  }
}

function closedOrOpen(cfg: LoadtestConfig, load: number, durationMs: number): RunPlan {
  return cfg.loop === 'closed'
    ? { loop: 'closed', durationMs, groups: [{ users: load, startMs: 0, stopMs: durationMs }] }
    : { loop: 'open', durationMs, segments: [{ rate: load, startMs: 0, stopMs: durationMs }] };
}

interface Measured {
  run: MeasuredRun;
  offsetS: number;
}

export async function measure(
  ctx: ScenarioContext,
  engine: Engine,
  plan: RunPlan,
  connections: number,
  label: string,
  t0: number,
): Promise<Measured> {
  const run = await engine.run(
    plan,
    connections,
    (t) => ctx.onTick(label, t),
    () => ctx.stopped(),
  );
  const offsetS = (Date.now() - t0 - run.wallMs) / 1000;
  return { run, offsetS };
}

/** Where a run's statistics end: the planned duration, or when Ctrl-C stopped it (rates stay honest). */
export function measuredEnd(ctx: ScenarioContext, run: MeasuredRun, plannedMs: number): number {
  return ctx.stopped() ? Math.max(1, Math.min(plannedMs, run.wallMs)) : plannedMs;
}

const unitOf = (cfg: LoadtestConfig): 'users' | 'req/s' => (cfg.loop === 'closed' ? 'users' : 'req/s');

export async function runProgressive(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const t0 = Date.now();
  const maxConn = cfg.loop === 'closed' ? Math.max(...cfg.stages) : cfg.connections;
  const engine = ctx.makeEngine(cfg.url, cfg.target, maxConn);
  const timeline = createTimeline();
  const stages: StageReport[] = [];
  const errorDetails: Record<string, string[]> = {};
  try {
    for (const [i, load] of cfg.stages.entries()) {
      if (ctx.stopped()) break;
      const label = `stage ${i + 1}/${cfg.stages.length}: ${load} ${unitOf(cfg)}`;
      const conns = cfg.loop === 'closed' ? load : cfg.connections;
      const { run, offsetS } = await measure(
        ctx,
        engine,
        closedOrOpen(cfg, load, cfg.stageDurationMs),
        conns,
        label,
        t0,
      );
      const from = cfg.warmupMs < cfg.stageDurationMs ? cfg.warmupMs : 0;
      const stats = sliceStats(run.recording, from, measuredEnd(ctx, run, cfg.stageDurationMs));
      stages.push({
        name: `${load} ${unitOf(cfg)}`,
        load,
        unit: unitOf(cfg),
        fromS: offsetS,
        toS: offsetS + cfg.stageDurationMs / 1000,
        stats,
        slo: evaluateSlo(stats, cfg.slo),
        generator: run.generator,
        connect: run.connect,
      });
      timeline.add(run.recording, cfg.stageDurationMs, offsetS);
      mergeDetails(errorDetails, run.recording.details);
    }
  } finally {
    await engine.close();
  }
  const slo = combineSlo(stages.map((s) => labelSlo(s.name, s.slo ?? { pass: false, checks: [] })));
  return {
    stages,
    timeline: timeline.series,
    slo: stages.length === 0 ? { pass: false, checks: [] } : slo,
    errorDetails,
  };
}

export async function runSpike(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const { baseline, peak, baselineMs, spikeMs, afterMs } = cfg.spike;
  const dropAt = baselineMs + spikeMs;
  const total = dropAt + afterMs;
  const plan: RunPlan =
    cfg.loop === 'closed'
      ? {
          loop: 'closed',
          durationMs: total,
          groups: [
            { users: baseline, startMs: 0, stopMs: total },
            { users: Math.max(0, peak - baseline), startMs: baselineMs, stopMs: dropAt },
          ],
        }
      : {
          loop: 'open',
          durationMs: total,
          segments: [
            { rate: baseline, startMs: 0, stopMs: baselineMs },
            { rate: peak, startMs: baselineMs, stopMs: dropAt },
            { rate: baseline, startMs: dropAt, stopMs: total },
          ],
        };
  const t0 = Date.now();
  const conns = cfg.loop === 'closed' ? Math.max(baseline, peak) : cfg.connections;
  const engine = ctx.makeEngine(cfg.url, cfg.target, conns);
  let m: Measured;
  try {
    m = await measure(ctx, engine, plan, conns, `spike ${baseline}→${peak}→${baseline} ${unitOf(cfg)}`, t0);
  } finally {
    await engine.close();
  }
  const rec = m.run.recording;
  const from = cfg.warmupMs < baselineMs ? cfg.warmupMs : 0;
  const base = sliceStats(rec, from, baselineMs);
  const mk = (name: string, load: number, a: number, b: number): StageReport => ({
    name,
    load,
    unit: unitOf(cfg),
    fromS: m.offsetS + a / 1000,
    toS: m.offsetS + b / 1000,
    stats: a === from ? base : sliceStats(rec, a, b),
    generator: m.run.generator,
  });
  const stages = [
    {
      ...mk('baseline', baseline, from, baselineMs),
      connect: m.run.connect,
      slo: evaluateSlo(base, cfg.slo),
    },
    mk('spike', peak, baselineMs, dropAt),
    mk('after', baseline, dropAt, total),
  ];
  const recovery = detectRecovery(rec, base.latency.p50, dropAt, total, cfg.recovery);
  const timeline = createTimeline(Math.min(1000, cfg.recovery.windowMs));
  timeline.add(rec, total, m.offsetS);
  const recCheck = evaluateRecovery(recovery.recoveryMs, cfg.slo);
  const baseSlo = evaluateSlo(base, cfg.slo);
  return {
    stages,
    overall: sliceStats(rec, 0, total),
    timeline: timeline.series,
    spike: { ...recovery, spikeAtS: m.offsetS + baselineMs / 1000, dropAtS: m.offsetS + dropAt / 1000 },
    slo: combineSlo([labelSlo('baseline', baseSlo), { pass: recCheck.pass, checks: [recCheck] }]),
    errorDetails: rec.details,
  };
}

function slope(samples: ServerSample[]): number {
  const pts = samples.filter((s) => Number.isFinite(s.memoryMb));
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((a, s) => a + s.t, 0) / pts.length;
  const my = pts.reduce((a, s) => a + s.memoryMb, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const s of pts) {
    num += (s.t - mx) * (s.memoryMb - my);
    den += (s.t - mx) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 60;
}

export async function runEndurance(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const load = cfg.loop === 'closed' ? cfg.users : cfg.rate;
  const conns = cfg.loop === 'closed' ? cfg.users : cfg.connections;
  const t0 = Date.now();
  const engine = ctx.makeEngine(cfg.url, cfg.target, conns);
  let m: Measured;
  try {
    m = await measure(
      ctx,
      engine,
      closedOrOpen(cfg, load, cfg.durationMs),
      conns,
      `endurance ${load} ${unitOf(cfg)}`,
      t0,
    );
  } finally {
    await engine.close();
  }
  const rec = m.run.recording;
  const from = cfg.warmupMs < cfg.durationMs ? cfg.warmupMs : 0;
  const end = measuredEnd(ctx, m.run, cfg.durationMs);
  const span = (end - from) / cfg.windows;
  const stages: StageReport[] = [];
  for (let w = 0; w < cfg.windows; w++) {
    const a = from + w * span;
    const b = a + span;
    stages.push({
      name: `window ${w + 1}`,
      load,
      unit: unitOf(cfg),
      fromS: m.offsetS + a / 1000,
      toS: m.offsetS + b / 1000,
      stats: sliceStats(rec, a, b),
      generator: m.run.generator,
      ...(w === 0 ? { connect: m.run.connect } : {}),
    });
  }
  const overall = sliceStats(rec, from, end);
  const first = stages[0]?.stats.latency;
  const last = stages[stages.length - 1]?.stats.latency;
  const drift = (a: number | undefined, b: number | undefined): number =>
    a === undefined || b === undefined || !(a > 0) ? Number.NaN : ((b - a) / a) * 100;
  const mem = ctx.serverSamples().filter((s) => Number.isFinite(s.memoryMb));
  const endurance: EnduranceSummary = {
    driftP50Pct: drift(first?.p50, last?.p50),
    driftP99Pct: drift(first?.p99, last?.p99),
    memoryStartMb: mem[0]?.memoryMb ?? Number.NaN,
    memoryEndMb: mem[mem.length - 1]?.memoryMb ?? Number.NaN,
    memoryMaxMb: mem.length === 0 ? Number.NaN : Math.max(...mem.map((s) => s.memoryMb)),
    memorySlopeMbPerMin: slope(mem),
  };
  const timeline = createTimeline();
  timeline.add(rec, cfg.durationMs, m.offsetS);
  return {
    stages,
    overall,
    endurance,
    timeline: timeline.series,
    slo: evaluateSlo(overall, cfg.slo),
    errorDetails: rec.details,
  };
}
