/**
 * Shared shapes of the load tester. The load tester talks to servers only over their public HTTP
 * API; nothing here imports gateway code.
 */

/** Where a CLI run writes (process, or a test's capture). */
export interface CliIo {
  stdout: { write(s: string): boolean; isTTY?: boolean };
  stderr: { write(s: string): boolean; isTTY?: boolean };
}

/** Which wire protocol the target speaks. `sutazai` = the gateway's own /api/v1 API. */
export type TargetMode = 'sutazai' | 'openai' | 'ollama';
export const TARGET_MODES: readonly TargetMode[] = ['sutazai', 'openai', 'ollama'];

/** One kind of simulated user action. */
export type RequestKind = 'repeat' | 'fresh' | 'stream' | 'health' | 'task';
export const REQUEST_KINDS: readonly RequestKind[] = ['repeat', 'fresh', 'stream', 'health', 'task'];

/**
 * How a request ended. `http` = non-success status, `body` = success status but the body failed
 * its check, `stream` = an error event/line inside a stream or a stream that ended without its
 * final event, `not_sent` = open-loop arrival dropped because the in-flight cap was reached,
 * `other` = an unexpected client-side exception.
 */
export const OUTCOMES = [
  'ok',
  'http',
  'timeout',
  'connection',
  'body',
  'stream',
  'task_failed',
  'not_sent',
  'other',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What one executed request reports back to the driver (latency is measured by the driver). */
export interface RequestResult {
  outcome: Outcome;
  /** HTTP status of the (last) response, 0 if none. */
  status: number;
  /** Completion tokens reported by the server (or counted stream events); 0 if unknown. */
  tokens: number;
  /** Time to first token from the request's start, ms; NaN for non-streaming requests. */
  ttftMs: number;
  /** Gaps between consecutive token events of a stream, ms. */
  gapsMs?: number[];
  /** Short human-readable reason for a failure (kept for the first few of each kind). */
  detail?: string;
  /**
   * When the response's last byte was read (hrtime ns): latency ends here, not after the tool
   * has parsed and checked it (its own work, and other replies' work queued before it).
   */
  endNs?: bigint;
}

/** Weighted mix of request kinds; weights need not sum to 100. */
export type Mix = Readonly<Record<RequestKind, number>>;

/** Closed-loop users active between startMs and stopMs of a run (ms from the run's origin). */
export interface UserGroup {
  users: number;
  startMs: number;
  stopMs: number;
}

/** Open-loop arrivals at `rate` per second between startMs and stopMs. */
export interface RateSegment {
  rate: number;
  startMs: number;
  stopMs: number;
}

/** One measured run: closed-loop groups or open-loop segments, all sharing one clock origin. */
export type RunPlan =
  | { loop: 'closed'; durationMs: number; groups: UserGroup[] }
  | { loop: 'open'; durationMs: number; segments: RateSegment[] };

/** Latency distribution, ms. Exact: computed from every recorded sample (nearest-rank). */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Statistics over a time slice of a run (samples selected by their start time). */
export interface SliceStats {
  /** Requests started in the slice (including errors and not-sent arrivals). */
  requests: number;
  ok: number;
  errors: number;
  /** Percent of requests that failed, 0-100. */
  errorRatePct: number;
  /** Error counts by label: `http_503`, `timeout`, `connection`, `body`, ... */
  errorsByKind: Record<string, number>;
  /** Latency of successful requests only. */
  latency: LatencySummary;
  /** Successful requests per second of slice time. */
  okRps: number;
  /** All completed requests (ok + failed, excluding not-sent) per second. */
  rps: number;
  tokens: number;
  tokensPerSec: number;
  /** Time to first token of successful streams. */
  ttft: LatencySummary;
  /** Inter-token gaps of successful streams. */
  interToken: LatencySummary;
  /** Requests per kind started in the slice. */
  byKind: Record<string, number>;
}

export interface SloThresholds {
  /** Total-latency limits; unset = not checked (total latency grows with answer length). */
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** p95 time to first token of streamed requests; checked only when the mix streams. */
  ttftP95Ms?: number;
  /** Percent, 0-100. */
  errorRatePct: number;
  /** Spike scenario only: maximum time for latency to return to baseline. */
  recoveryMs: number;
}

export interface SloCheck {
  name: string;
  limit: number;
  actual: number;
  pass: boolean;
}

export interface SloResult {
  pass: boolean;
  checks: SloCheck[];
}

/** The load generator's own health during a run, so a saturated generator is visible. */
export interface GeneratorStats {
  /** CPU time of this process (all threads) / wall time, percent of one core. */
  cpuPct: number;
  /** p99 / max event-loop delay of the generator's main thread, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Open loop: arrivals dispatched more than `lateMs` after their scheduled time. */
  late: number;
  /** Open loop: arrivals not sent at all because the in-flight cap was reached. */
  notSent: number;
  /** Most requests queued inside the client pool (waiting for a free connection). */
  maxQueued: number;
  workers: number;
}

/** Time to open connections before measurement. */
export interface ConnectStats {
  /** New connections opened. */
  opened: number;
  /** Wall time of the pre-open step, ms. */
  elapsedMs: number;
  /** Per-connection TCP connect time. */
  connect: LatencySummary;
  failed: number;
}
