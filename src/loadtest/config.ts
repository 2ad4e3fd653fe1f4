import { parseArgs } from 'node:util';
import { DEFAULT_MIX, OVERHEAD_MIX, parseMix } from './mix.js';
import { DEFAULT_SLO } from './slo.js';
import { DEFAULT_RECOVERY, type RecoveryOptions } from './spike.js';
import { TARGET_MODES, type Mix, type SloThresholds, type TargetMode } from './types.js';

export const SCENARIOS = ['progressive', 'spike', 'endurance', 'overhead', 'report'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The validated, frozen settings of one `sutazai loadtest` invocation. */
export interface LoadtestConfig {
  scenario: Scenario;
  url: string;
  target: TargetMode;
  model?: string;
  maxTokens?: number;
  mix: Mix;
  repeatPool: number;
  loop: 'closed' | 'open';
  thinkMs: number;
  thinkJitter: number;
  /** Users per stage (closed loop) or requests/s per stage (open loop). */
  stages: number[];
  stageDurationMs: number;
  /** Excluded from each stage's statistics (still run and charted). */
  warmupMs: number;
  users: number;
  rate: number;
  durationMs: number;
  /** Endurance: number of equal windows for drift. */
  windows: number;
  spike: { baseline: number; peak: number; baselineMs: number; spikeMs: number; afterMs: number };
  recovery: RecoveryOptions;
  directUrl?: string;
  directTarget: TargetMode;
  concurrency: number[];
  connections: number;
  maxInflight: number;
  lateMs: number;
  timeoutMs: number;
  taskType: string;
  taskPollMs: number;
  taskTimeoutMs: number;
  headers: Record<string, string>;
  slo: SloThresholds;
  sloEnabled: boolean;
  serverMetrics: boolean;
  metricsPaths: string[];
  metricsIntervalMs: number;
  json?: string;
  html?: string;
  out: string;
  dryRun: boolean;
  quiet: boolean;
  workers: number;
  seed: number;
}

export class UsageError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  url: { type: 'string' },
  target: { type: 'string', default: 'sutazai' },
  model: { type: 'string' },
  'max-tokens': { type: 'string' },
  mix: { type: 'string' },
  'repeat-prompts': { type: 'string', default: '10' },
  loop: { type: 'string', default: 'closed' },
  think: { type: 'string' },
  'think-jitter': { type: 'string', default: '0.5' },
  stages: { type: 'string', default: '5,25,100,500,1000' },
  'stage-duration': { type: 'string', default: '30s' },
  warmup: { type: 'string', default: '1s' },
  users: { type: 'string', default: '100' },
  rate: { type: 'string', default: '100' },
  duration: { type: 'string' },
  windows: { type: 'string', default: '10' },
  'spike-baseline': { type: 'string', default: '10' },
  'spike-peak': { type: 'string', default: '500' },
  'spike-baseline-duration': { type: 'string', default: '10s' },
  'spike-duration': { type: 'string', default: '10s' },
  'spike-after-duration': { type: 'string', default: '20s' },
  'recovery-window': { type: 'string', default: `${DEFAULT_RECOVERY.windowMs}ms` },
  'recovery-tolerance': { type: 'string', default: String(DEFAULT_RECOVERY.tolerance) },
  'recovery-slack': { type: 'string', default: `${DEFAULT_RECOVERY.slackMs}ms` },
  'recovery-windows': { type: 'string', default: String(DEFAULT_RECOVERY.consecutive) },
  direct: { type: 'string' },
  'direct-target': { type: 'string', default: 'ollama' },
  concurrency: { type: 'string', default: '1,16,64,256' },
  connections: { type: 'string', default: '256' },
  'max-inflight': { type: 'string', default: '10000' },
  late: { type: 'string', default: '10ms' },
  timeout: { type: 'string', default: '30s' },
  'task-type': { type: 'string', default: 'text_generation' },
  'task-poll': { type: 'string', default: '200ms' },
  'task-timeout': { type: 'string', default: '120s' },
  header: { type: 'string', multiple: true, default: [] as string[] },
  // Latency SLO flags take bare numbers as milliseconds.
  // Total-latency limits are off unless given; `off` switches the TTFT limit off.
  'slo-p50': { type: 'string' },
  'slo-p95': { type: 'string' },
  'slo-p99': { type: 'string' },
  'slo-ttft-p95': { type: 'string', default: `${DEFAULT_SLO.ttftP95Ms}ms` },
  'slo-error-rate': { type: 'string', default: String(DEFAULT_SLO.errorRatePct) },
  'slo-recovery': { type: 'string', default: `${DEFAULT_SLO.recoveryMs}ms` },
  'no-slo': { type: 'boolean', default: false },
  'no-server-metrics': { type: 'boolean', default: false },
  'metrics-path': { type: 'string', multiple: true, default: [] as string[] },
  'metrics-interval': { type: 'string', default: '2s' },
  json: { type: 'string' },
  html: { type: 'string' },
  out: { type: 'string', default: 'docs/performance.md' },
  'dry-run': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  workers: { type: 'string', default: '1' },
  seed: { type: 'string', default: '1' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Unit = 'ms' | 's' | 'm' | 'h';

/** "250ms", "30s", "5m", "1h" to ms; a bare number is in `bareUnit` (seconds unless said otherwise). */
export function parseDuration(text: string, bareUnit: Unit = 's'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) return Number.NaN;
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? bareUnit) as Unit];
  return Number(m[1]) * mult;
}

/** Parse argv (after `loadtest`). Returns null for --help. Throws UsageError listing every problem. */
export function parseConfig(argv: string[]): LoadtestConfig | null {
  const problems: string[] = [];
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError([err instanceof Error ? err.message : String(err)]);
  }
  const v = parsed.values;
  if (v.help) return null;
  const scenario = parsed.positionals[0] as Scenario | undefined;
  if (scenario === undefined || !SCENARIOS.includes(scenario)) {
    problems.push(`scenario must be one of ${SCENARIOS.join(', ')} (got ${scenario ?? 'nothing'})`);
  }
  if (parsed.positionals.length > 1)
    problems.push(`unexpected arguments: ${parsed.positionals.slice(1).join(' ')}`);

  const dur = (name: string, text: string, min = 0, bareUnit: Unit = 's'): number => {
    const ms = parseDuration(text, bareUnit);
    if (!Number.isFinite(ms) || ms < min)
      problems.push(`--${name}: "${text}" is not a duration like 500ms, 30s, 5m`);
    return ms;
  };
  const optMs = <K extends string>(name: string, key: K, text: string | undefined) =>
    text === undefined || text === 'off'
      ? {}
      : ({ [key]: dur(name, text, 0, 'ms') } as Partial<Record<K, number>>);
  const num = (
    name: string,
    text: string,
    opts: { int?: boolean; min?: number; max?: number } = {},
  ): number => {
    const n = Number(text);
    const bad =
      text.trim() === '' ||
      !Number.isFinite(n) ||
      (opts.int === true && !Number.isInteger(n)) ||
      n < (opts.min ?? 0) ||
      n > (opts.max ?? Infinity);
    if (bad)
      problems.push(
        `--${name}: "${text}" must be a ${opts.int === true ? 'whole ' : ''}number >= ${opts.min ?? 0}${opts.max === undefined ? '' : ` and <= ${opts.max}`}`,
      );
    return n;
  };
  const list = (name: string, text: string): number[] => {
    const items = text.split(',').map((s) => s.trim());
    const out = items.map((s) => num(name, s, { min: 1 }));
    if (items.length === 0) problems.push(`--${name}: empty list`);
    return out;
  };
  const target = (name: string, text: string): TargetMode => {
    if (!TARGET_MODES.includes(text as TargetMode))
      problems.push(`--${name}: must be one of ${TARGET_MODES.join(', ')}`);
    return text as TargetMode;
  };
  const url = (name: string, text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    try {
      const u = new URL(text);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`--${name}: "${text}" is not an http(s) URL`);
    }
    return text;
  };

  // Overhead compares against an upstream without a cache, so by default it sends fresh prompts.
  let mix: Mix = scenario === 'overhead' ? OVERHEAD_MIX : DEFAULT_MIX;
  if (v.mix !== undefined) {
    try {
      mix = parseMix(v.mix);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  const headers: Record<string, string> = {};
  for (const h of v.header) {
    const i = h.indexOf(':');
    if (i <= 0) problems.push(`--header: "${h}" is not "Name: value"`);
    else headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const loop = v.loop;
  if (loop !== 'closed' && loop !== 'open') problems.push('--loop: must be closed or open');
  const tgt = target('target', v.target);
  const baseUrl = url('url', v.url);
  if (baseUrl === undefined && scenario !== 'report') problems.push('--url is required');
  if (tgt !== 'sutazai' && v.model === undefined && scenario !== 'report')
    problems.push(`--model is required with --target ${tgt}`);
  if (tgt !== 'sutazai' && mix.task > 0) problems.push(`--mix: task requests need --target sutazai`);
  const directUrl = url('direct', v.direct);
  if (scenario === 'overhead' && mix.task > 0)
    problems.push('overhead: the direct upstream has no task API; drop task from --mix');
  if (scenario === 'overhead' && directUrl === undefined)
    problems.push('overhead needs --direct URL (the upstream the gateway forwards to)');
  const maxTokens =
    v['max-tokens'] === undefined ? undefined : num('max-tokens', v['max-tokens'], { int: true, min: 1 });
  const workers = num('workers', v.workers, { int: true, min: 1, max: 64 });
  const defaultDuration = scenario === 'overhead' ? '10s' : '5m';

  const cfg: LoadtestConfig = {
    scenario: scenario ?? 'progressive',
    url: baseUrl ?? '',
    target: tgt,
    ...(v.model === undefined ? {} : { model: v.model }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    mix,
    repeatPool: num('repeat-prompts', v['repeat-prompts'], { int: true, min: 1 }),
    loop: loop === 'open' ? 'open' : 'closed',
    // Overhead measures service time, so its users never think.
    thinkMs: scenario === 'overhead' ? 0 : dur('think', v.think ?? '1s'),
    thinkJitter: num('think-jitter', v['think-jitter'], { max: 1 }),
    stages: list('stages', v.stages),
    stageDurationMs: dur('stage-duration', v['stage-duration'], 1),
    warmupMs: dur('warmup', v.warmup),
    users: num('users', v.users, { int: true, min: 1 }),
    rate: num('rate', v.rate, { min: 0.001 }),
    durationMs: dur('duration', v.duration ?? defaultDuration, 1),
    windows: num('windows', v.windows, { int: true, min: 1, max: 1000 }),
    spike: {
      baseline: num('spike-baseline', v['spike-baseline'], { min: 1 }),
      peak: num('spike-peak', v['spike-peak'], { min: 1 }),
      baselineMs: dur('spike-baseline-duration', v['spike-baseline-duration'], 1),
      spikeMs: dur('spike-duration', v['spike-duration'], 1),
      afterMs: dur('spike-after-duration', v['spike-after-duration'], 1),
    },
    recovery: {
      windowMs: dur('recovery-window', v['recovery-window'], 1),
      tolerance: num('recovery-tolerance', v['recovery-tolerance'], { min: 1 }),
      slackMs: dur('recovery-slack', v['recovery-slack']),
      consecutive: num('recovery-windows', v['recovery-windows'], { int: true, min: 1 }),
      maxErrorPct: num('slo-error-rate', v['slo-error-rate'], { max: 100 }),
    },
    ...(directUrl === undefined ? {} : { directUrl }),
    directTarget: target('direct-target', v['direct-target']),
    concurrency: list('concurrency', v.concurrency),
    connections: num('connections', v.connections, { int: true, min: 1 }),
    maxInflight: num('max-inflight', v['max-inflight'], { int: true, min: 1 }),
    lateMs: dur('late', v.late),
    timeoutMs: dur('timeout', v.timeout, 1),
    taskType: v['task-type'],
    taskPollMs: dur('task-poll', v['task-poll'], 1),
    taskTimeoutMs: dur('task-timeout', v['task-timeout'], 1),
    headers,
    slo: {
      ...optMs('slo-p50', 'p50Ms', v['slo-p50']),
      ...optMs('slo-p95', 'p95Ms', v['slo-p95']),
      ...optMs('slo-p99', 'p99Ms', v['slo-p99']),
      ...optMs('slo-ttft-p95', 'ttftP95Ms', v['slo-ttft-p95']),
      errorRatePct: num('slo-error-rate', v['slo-error-rate'], { max: 100 }),
      recoveryMs: dur('slo-recovery', v['slo-recovery']),
    },
    sloEnabled: !v['no-slo'],
    serverMetrics: !v['no-server-metrics'],
    metricsPaths: v['metrics-path'].length > 0 ? v['metrics-path'] : ['/api/v1/metrics', '/api/v1/status'],
    metricsIntervalMs: dur('metrics-interval', v['metrics-interval'], 100),
    ...(v.json === undefined ? {} : { json: v.json }),
    ...(v.html === undefined ? {} : { html: v.html }),
    out: v.out,
    dryRun: v['dry-run'],
    quiet: v.quiet,
    workers,
    seed: num('seed', v.seed, { int: true }),
  };
  if (problems.length > 0) throw new UsageError([...new Set(problems)]);
  return Object.freeze(cfg);
}
