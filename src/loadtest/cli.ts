import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request } from 'undici';
import { runBenchReport } from './bench-report.js';
import { parseConfig, UsageError, type LoadtestConfig } from './config.js';
import { createLocalEngine, splitUrl, type Engine, type EngineOptions } from './engine.js';
import { renderHtml } from './html.js';
import { createProgress } from './progress.js';
import { healthRoute, routePath } from './protocol.js';
import { generatorWarnings, machineInfo, printableConfig, type Report } from './report.js';
import { runOverhead } from './overhead.js';
import {
  runEndurance,
  runProgressive,
  runSpike,
  type ScenarioContext,
  type ScenarioResult,
} from './scenarios.js';
import { startServerMetrics, type ServerMetricsSeries } from './server-metrics.js';
import { renderSummary } from './summary.js';
import type { CliIo, TargetMode } from './types.js';
import { USAGE } from './usage.js';
import { createWorkerEngine } from './workers.js';

/** Where the CLI writes; tests pass their own. */
const EXIT = { pass: 0, fail: 1, usage: 2 } as const;

function engineOptions(
  cfg: LoadtestConfig,
  url: string,
  target: TargetMode,
  maxConnections: number,
  runId: string,
): EngineOptions {
  return {
    url,
    protocol: {
      target,
      taskType: cfg.taskType,
      ...(cfg.model === undefined ? {} : { model: cfg.model }),
      ...(cfg.maxTokens === undefined ? {} : { maxTokens: cfg.maxTokens }),
    },
    mix: cfg.mix,
    repeatPool: cfg.repeatPool,
    headers: cfg.headers,
    timeoutMs: cfg.timeoutMs,
    thinkMs: cfg.thinkMs,
    thinkJitter: cfg.thinkJitter,
    maxInflight: cfg.maxInflight,
    lateMs: cfg.lateMs,
    taskPollMs: cfg.taskPollMs,
    taskTimeoutMs: cfg.taskTimeoutMs,
    seed: cfg.seed,
    runId,
    maxConnections,
  };
}

/** Fail fast with a clear message when the target cannot be reached at all. */
async function probe(
  url: string,
  target: TargetMode,
  headers: Record<string, string>,
): Promise<string | null> {
  const { origin, basePath } = splitUrl(url);
  const path = routePath({ target, basePath, taskType: '' }, healthRoute(target));
  try {
    const res = await request(origin + path, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.dump();
    return null;
  } catch (err) {
    return `cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function writeOut(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

async function runScenario(cfg: LoadtestConfig, io: CliIo): Promise<number> {
  for (const [url, target] of [
    [cfg.url, cfg.target] as const,
    ...(cfg.directUrl === undefined ? [] : [[cfg.directUrl, cfg.directTarget] as const]),
  ]) {
    const problem = await probe(url, target, cfg.headers);
    if (problem !== null) {
      io.stderr.write(`sutazai loadtest: ${problem}\n`);
      return EXIT.fail;
    }
  }
  const runId = randomBytes(4).toString('hex');
  const startedAt = new Date().toISOString();
  let interrupted = false;
  const abort = (): never => process.exit(130);
  const onSigint = (): void => {
    interrupted = true;
    io.stderr.write('\nstopping: no new requests, waiting for in-flight ones (Ctrl-C again to abort)\n');
    process.once('SIGINT', abort);
  };
  process.once('SIGINT', onSigint);
  const { origin, basePath } = splitUrl(cfg.url);
  const metrics =
    cfg.serverMetrics && cfg.target === 'sutazai'
      ? startServerMetrics({
          origin,
          basePath,
          paths: cfg.metricsPaths,
          intervalMs: cfg.metricsIntervalMs,
          headers: cfg.headers,
        })
      : undefined;
  const progress = createProgress(io.stderr, !cfg.quiet);
  const ctx: ScenarioContext = {
    cfg,
    makeEngine(url, target, maxConnections): Engine {
      const opts = engineOptions(cfg, url, target, maxConnections, runId);
      return cfg.workers > 1 ? createWorkerEngine(opts, cfg.workers) : createLocalEngine(opts);
    },
    onTick: (label, t) => progress.tick(label, t),
    stopped: () => interrupted,
    serverSamples: () => metrics?.current().samples ?? [],
  };
  let result: ScenarioResult;
  let server: ServerMetricsSeries = { path: null, note: 'not polled', samples: [] };
  try {
    const run = {
      progressive: runProgressive,
      spike: runSpike,
      endurance: runEndurance,
      overhead: runOverhead,
    }[cfg.scenario as 'progressive' | 'spike' | 'endurance' | 'overhead'];
    result = await run(ctx);
  } finally {
    if (metrics !== undefined) server = await metrics.stop();
    progress.done();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGINT', abort);
  }
  const report: Report = {
    tool: 'sutazai-loadtest',
    formatVersion: 1,
    scenario: cfg.scenario,
    startedAt,
    finishedAt: new Date().toISOString(),
    interrupted,
    config: printableConfig(cfg),
    machine: machineInfo(),
    stages: result.stages,
    ...(result.overall === undefined ? {} : { overall: result.overall }),
    timeline: result.timeline,
    ...(result.spike === undefined ? {} : { spike: result.spike }),
    ...(result.endurance === undefined ? {} : { endurance: result.endurance }),
    ...(result.overhead === undefined ? {} : { overhead: result.overhead }),
    server,
    slo: { ...result.slo, enabled: cfg.sloEnabled },
    errorDetails: result.errorDetails,
    warnings: generatorWarnings(result.stages),
  };
  io.stdout.write(`${renderSummary(report)}\n`);
  if (cfg.json !== undefined) {
    await writeOut(cfg.json, `${JSON.stringify(report, null, 2)}\n`);
    io.stderr.write(`wrote ${cfg.json}\n`);
  }
  if (cfg.html !== undefined) {
    await writeOut(cfg.html, renderHtml(report));
    io.stderr.write(`wrote ${cfg.html}\n`);
  }
  if (interrupted) return EXIT.fail;
  return !cfg.sloEnabled || report.slo.pass ? EXIT.pass : EXIT.fail;
}

/**
 * `sutazai loadtest <scenario> --url URL [flags]`. Returns the exit code: 0 = SLOs met (or not
 * evaluated), 1 = SLO failed, target unreachable or run interrupted, 2 = bad usage.
 */
export async function runLoadtestCli(argv: string[], io: CliIo = process): Promise<number> {
  let cfg: LoadtestConfig | null;
  try {
    cfg = parseConfig(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(
      `sutazai loadtest: invalid arguments:\n  - ${err.problems.join('\n  - ')}\n\nRun "sutazai loadtest --help" for usage.\n`,
    );
    return EXIT.usage;
  }
  if (cfg === null) {
    io.stdout.write(USAGE);
    return EXIT.pass;
  }
  try {
    return cfg.scenario === 'report'
      ? await runBenchReport(cfg, io, runLoadtestCli)
      : await runScenario(cfg, io);
  } catch (err) {
    io.stderr.write(`sutazai loadtest: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.fail;
  }
}
