import os from 'node:os';
import type { LoadtestConfig, Scenario } from './config.js';
import { formatMix } from './mix.js';
import type { ServerMetricsSeries } from './server-metrics.js';
import type { RecoveryResult } from './spike.js';
import type { TimeSeries } from './stats.js';
import type { ConnectStats, GeneratorStats, SliceStats, SloResult } from './types.js';

/** One measured slice: a progressive stage, a spike phase, an endurance window, an overhead run. */
export interface StageReport {
  name: string;
  /** Users (closed loop) or requests/s (open loop) offered. */
  load: number;
  unit: 'users' | 'req/s';
  /** Position on the report's timeline, seconds. */
  fromS: number;
  toS: number;
  stats: SliceStats;
  slo?: SloResult;
  generator?: GeneratorStats;
  connect?: ConnectStats;
}

export interface OverheadRow {
  concurrency: number;
  gateway: SliceStats;
  direct: SliceStats;
  addedP50Ms: number;
  addedP99Ms: number;
  /** Gateway successful throughput / direct successful throughput. */
  throughputRatio: number;
}

export interface EnduranceSummary {
  /** Change of the median from the first to the last window, percent. */
  driftP50Pct: number;
  driftP99Pct: number;
  memoryStartMb: number;
  memoryEndMb: number;
  memoryMaxMb: number;
  /** Least-squares slope of server memory over the run, MB per minute (NaN without samples). */
  memorySlopeMbPerMin: number;
}

/** Everything a run produced; this is what --json writes and what the HTML report draws. */
export interface Report {
  tool: 'sutazai-loadtest';
  formatVersion: 1;
  scenario: Scenario;
  startedAt: string;
  finishedAt: string;
  /** Stopped early by Ctrl-C. */
  interrupted: boolean;
  config: Record<string, unknown>;
  machine: Record<string, unknown>;
  stages: StageReport[];
  /** Whole-run statistics (endurance; spike: all phases). */
  overall?: SliceStats;
  timeline: TimeSeries;
  spike?: RecoveryResult & { dropAtS: number; spikeAtS: number };
  endurance?: EnduranceSummary;
  overhead?: OverheadRow[];
  server: ServerMetricsSeries;
  slo: SloResult & { enabled: boolean };
  /** Failure details seen (first few per kind). */
  errorDetails: Record<string, string[]>;
  /** Generator warnings, e.g. CPU saturated. */
  warnings: string[];
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
  };
}

/** The settings worth printing (headers are left out: they may carry keys). */
export function printableConfig(cfg: LoadtestConfig): Record<string, unknown> {
  const base: Record<string, unknown> = {
    url: cfg.url,
    target: cfg.target,
    model: cfg.model ?? '(server default)',
    loop: cfg.loop,
    mix: formatMix(cfg.mix),
    thinkMs: cfg.thinkMs,
    timeoutMs: cfg.timeoutMs,
    workers: cfg.workers,
    seed: cfg.seed,
    headers: Object.keys(cfg.headers),
  };
  if (cfg.maxTokens !== undefined) base.maxTokens = cfg.maxTokens;
  if (cfg.loop === 'open')
    Object.assign(base, { connections: cfg.connections, maxInflight: cfg.maxInflight, lateMs: cfg.lateMs });
  if (cfg.scenario === 'progressive')
    Object.assign(base, { stages: cfg.stages, stageDurationMs: cfg.stageDurationMs, warmupMs: cfg.warmupMs });
  if (cfg.scenario === 'spike') Object.assign(base, { spike: cfg.spike, recovery: cfg.recovery });
  if (cfg.scenario === 'endurance')
    Object.assign(base, {
      users: cfg.users,
      rate: cfg.rate,
      durationMs: cfg.durationMs,
      windows: cfg.windows,
    });
  if (cfg.scenario === 'overhead')
    Object.assign(base, {
      direct: cfg.directUrl,
      directTarget: cfg.directTarget,
      concurrency: cfg.concurrency,
      durationMs: cfg.durationMs,
    });
  return base;
}

/** Thresholds of the generator warnings (exported for tests and docs). */
export const DISTORTION = {
  /** Generator CPU per thread above this (percent of a core): its own queueing adds latency. */
  cpuPct: 70,
  /** Event-loop delay p99 above this share of the stage's latency p99 (and above minLoopMs). */
  loopShareOfP99: 0.1,
  minLoopMs: 1,
} as const;

/** Warnings that make a result suspect; shown in every output. */
export function generatorWarnings(stages: StageReport[]): string[] {
  const out: string[] = [];
  const seen = new Set<GeneratorStats>();
  const cores = os.availableParallelism();
  for (const s of stages) {
    const g = s.generator;
    // Phases of one run (spike, endurance windows) share one generator record: warn once.
    if (g === undefined || seen.has(g)) continue;
    seen.add(g);
    const load = os.loadavg()[0] ?? 0;
    const busy =
      load > cores ? ` (the machine is busy: load average ${load.toFixed(1)} on ${cores} cores)` : '';
    if (g.cpuPct > DISTORTION.cpuPct * g.workers) {
      out.push(
        `${s.name}: load generator CPU ${g.cpuPct.toFixed(0)}% of ${g.workers} thread(s) — requests queue inside it and its latencies include that wait; it may be the bottleneck (try --workers, or run it on another machine)`,
      );
    }
    // Any response that arrives while the generator's event loop is late is timed late.
    const p99 = s.stats.latency.p99;
    const loopLimit = Math.max(
      DISTORTION.minLoopMs,
      Number.isFinite(p99) ? p99 * DISTORTION.loopShareOfP99 : 0,
    );
    if (g.loopDelayP99Ms > loopLimit) {
      const share =
        Number.isFinite(p99) && p99 > 0
          ? `, ${((g.loopDelayP99Ms / p99) * 100).toFixed(0)}% of the p99 it reports`
          : '';
      out.push(
        `${s.name}: load generator event-loop delay p99 ${g.loopDelayP99Ms.toFixed(1)} ms${share} — its latencies may be inflated by up to that much${busy}`,
      );
    }
    if (g.late > 0 && g.late >= s.stats.requests * 0.01) {
      out.push(`${s.name}: ${g.late} arrivals dispatched late (the delay is included in their latency)`);
    }
    if (g.notSent > 0)
      out.push(`${s.name}: ${g.notSent} arrivals not sent (in-flight cap reached) — counted as errors`);
    if (s.connect !== undefined && s.connect.failed > 0)
      out.push(`${s.name}: ${s.connect.failed} connections failed to open`);
  }
  return [...new Set(out)];
}
