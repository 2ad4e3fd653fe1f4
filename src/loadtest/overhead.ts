import type { Engine } from './engine.js';
import type { OverheadRow, StageReport } from './report.js';
import {
  createTimeline,
  measuredEnd,
  mergeDetails,
  measure,
  type ScenarioContext,
  type ScenarioResult,
} from './scenarios.js';
import { combineSlo } from './slo.js';
import { sliceStats } from './stats.js';
import type { RunPlan, SloResult } from './types.js';

/** Gateway vs direct upstream, same load, one concurrency level at a time. */
export async function runOverhead(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const maxC = Math.max(...cfg.concurrency);
  const t0 = Date.now();
  const gw = ctx.makeEngine(cfg.url, cfg.target, maxC);
  const direct = ctx.makeEngine(cfg.directUrl ?? '', cfg.directTarget, maxC);
  const stages: StageReport[] = [];
  const rows: OverheadRow[] = [];
  const timeline = createTimeline();
  const errorDetails: Record<string, string[]> = {};
  const sloParts: SloResult[] = [];
  try {
    for (const c of cfg.concurrency) {
      if (ctx.stopped()) break;
      const plan: RunPlan = {
        loop: 'closed',
        durationMs: cfg.durationMs,
        groups: [{ users: c, startMs: 0, stopMs: cfg.durationMs }],
      };
      const one = async (engine: Engine, who: string): Promise<StageReport> => {
        const { run, offsetS } = await measure(ctx, engine, plan, c, `${who} c=${c}`, t0);
        timeline.add(run.recording, cfg.durationMs, offsetS);
        mergeDetails(errorDetails, run.recording.details);
        const from = cfg.warmupMs < cfg.durationMs ? cfg.warmupMs : 0;
        return {
          name: `${who} c=${c}`,
          load: c,
          unit: 'users',
          fromS: offsetS,
          toS: offsetS + cfg.durationMs / 1000,
          stats: sliceStats(run.recording, from, measuredEnd(ctx, run, cfg.durationMs)),
          generator: run.generator,
          connect: run.connect,
        };
      };
      const g = await one(gw, 'gateway');
      const d = await one(direct, 'direct');
      stages.push(g, d);
      rows.push({
        concurrency: c,
        gateway: g.stats,
        direct: d.stats,
        addedP50Ms: g.stats.latency.p50 - d.stats.latency.p50,
        addedP99Ms: g.stats.latency.p99 - d.stats.latency.p99,
        throughputRatio: d.stats.okRps > 0 ? g.stats.okRps / d.stats.okRps : Number.NaN,
      });
      // Overhead has no latency SLO (it reports a difference); failures still fail the run.
      for (const s of [g, d]) {
        const check = {
          name: `${s.name} error_rate_pct`,
          limit: cfg.slo.errorRatePct,
          actual: s.stats.errorRatePct,
          pass: s.stats.errorRatePct < cfg.slo.errorRatePct,
        };
        sloParts.push({ pass: check.pass, checks: [check] });
      }
    }
  } finally {
    await Promise.all([gw.close(), direct.close()]);
  }
  return { stages, overhead: rows, timeline: timeline.series, slo: combineSlo(sloParts), errorDetails };
}
