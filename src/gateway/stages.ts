import { decideAuth } from '../auth/mode.js';
import { keyModelsStage } from '../auth/stage.js';
import type { Admission } from '../admission/controller.js';
import { admissionStage } from '../admission/stage.js';
import type { ResponseCache } from '../cache/service.js';
import { limitsStage } from '../limits/stage.js';
import type { Limiter } from '../limits/types.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { usageStage } from '../usage/stage.js';
import type { Config } from '../config/config.js';
import type { MetricsService } from '../metrics/service.js';
import { inputLimitsStage } from '../pipeline/input-limits.js';
import type { Stage } from '../pipeline/pipeline.js';

/** The services a stage may be built from (gateway.ts composes them before the pipeline). */
export interface StageDeps {
  config: Config;
  cache: ResponseCache;
  /** Absent when SUTAZAI_METRICS=false. */
  metrics: MetricsService | undefined;
  /** Per-key rate limits; absent when keys are not required. */
  limiter?: Limiter | undefined;
  /** The usage log; absent when SUTAZAI_USAGE_LOG is off. */
  usage?: UsageRecorder | undefined;
  /** The per-model wait queue (src/admission/). */
  admission: Admission;
}

/** Builds one stage from the composed services, or returns undefined when its feature is off. */
export type StageFactory = (deps: StageDeps) => Stage | undefined;

/** Outermost: sees every request as the client does, cache hits and rejections included. */
const metricsOuter: StageFactory = ({ metrics }) => metrics?.stages.outer;
/** One usage-log row per LLM request, refusals included (src/usage/). */
const usageLog: StageFactory = ({ usage }) => (usage ? usageStage(usage) : undefined);
/** Refuses requests too big to answer without harm (embedding inputs), before any work. */
const inputLimits: StageFactory = ({ config }) => inputLimitsStage(config);
/** 403 for a model the caller's API key may not use (src/auth/). */
const keyModels: StageFactory = ({ config }) =>
  decideAuth({ setting: config.authMode, host: config.host, adminKey: false }).required
    ? keyModelsStage()
    : undefined;
/** Per-key requests/tokens per minute and requests in flight: 429 + x-ratelimit-* (src/limits/). */
const keyLimits: StageFactory = ({ limiter, config }) =>
  limiter ? limitsStage({ limiter, defaultMaxTokens: config.defaultNumPredict }) : undefined;
/** Answers from the cache or merges identical requests in flight; off-mode is handled inside. */
const responseCache: StageFactory = ({ cache }) => cache.stage;
/** Waits for a slot of the model or turns the request away (503); after the cache, so hits never queue. */
const admissionGate: StageFactory = ({ admission, config }) =>
  admissionStage({ admission, keepAliveMs: config.streamKeepAliveMs });
/** Innermost: sees only the calls that really go to an upstream. */
const metricsInner: StageFactory = ({ metrics }) => metrics?.stages.inner;

/**
 * The pipeline's stages in request order, outermost first: the one place that orders them. Adding
 * a stage (auth, limits, admission...) is its own file in its feature's folder, its service in
 * StageDeps, and one entry here. docs/architecture.md shows the path through them.
 */
export const STAGES: readonly StageFactory[] = [
  metricsOuter,
  usageLog,
  inputLimits,
  keyModels,
  keyLimits,
  responseCache,
  admissionGate,
  metricsInner,
];

export function buildStages(deps: StageDeps, factories: readonly StageFactory[] = STAGES): Stage[] {
  const stages: Stage[] = [];
  for (const make of factories) {
    const stage = make(deps);
    if (stage !== undefined) stages.push(stage);
  }
  return stages;
}
