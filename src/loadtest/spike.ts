import type { Recording } from './recording.js';
import { percentileSorted } from './stats.js';

/** How recovery after a spike is judged. */
export interface RecoveryOptions {
  /** Window length for the rolling median, ms (default 500). */
  windowMs: number;
  /** A window is back to baseline when its median <= baseline median x tolerance (default 1.5)... */
  tolerance: number;
  /** ...or <= baseline median + slackMs, whichever is larger, so 1 ms baselines are not absurd (default 5). */
  slackMs: number;
  /** Consecutive good windows needed before recovery is declared (default 3). */
  consecutive: number;
  /** A window with more than this percent of failed requests is not recovered (default 1). */
  maxErrorPct: number;
}

export const DEFAULT_RECOVERY: Readonly<RecoveryOptions> = Object.freeze({
  windowMs: 500,
  tolerance: 1.5,
  slackMs: 5,
  consecutive: 3,
  maxErrorPct: 1,
});

export interface RecoveryWindow {
  /** Window start, ms after the drop back to baseline load. */
  offsetMs: number;
  requests: number;
  p50: number;
  errorPct: number;
  good: boolean;
}

export interface RecoveryResult {
  baselineP50: number;
  thresholdMs: number;
  recovered: boolean;
  /** Time from the end of the spike to the start of the first run of good windows; null = never. */
  recoveryMs: number | null;
  windows: RecoveryWindow[];
}

/**
 * Windows are formed by request START time: a window shows what a user arriving then experienced.
 * Requests launched during the spike and still queued are thus not charged to the recovery phase,
 * but a user arriving after the drop who waits behind that backlog is. An empty window (no request
 * started, e.g. everything stalled) is not good.
 */
export function detectRecovery(
  rec: Recording,
  baselineP50: number,
  dropAtMs: number,
  endMs: number,
  opts: RecoveryOptions = DEFAULT_RECOVERY,
): RecoveryResult {
  const thresholdMs = Math.max(baselineP50 * opts.tolerance, baselineP50 + opts.slackMs);
  const n = Math.max(0, Math.floor((endMs - dropAtMs) / opts.windowMs));
  const lat: number[][] = Array.from({ length: n }, () => []);
  const reqs = new Array<number>(n).fill(0);
  const errs = new Array<number>(n).fill(0);
  for (let i = 0; i < rec.count; i++) {
    const s = rec.start[i] ?? 0;
    if (s < dropAtMs) continue;
    const w = Math.floor((s - dropAtMs) / opts.windowMs);
    if (w >= n) continue;
    reqs[w] = (reqs[w] ?? 0) + 1;
    if (rec.outcome[i] === 0) lat[w]?.push(rec.latency[i] ?? 0);
    else errs[w] = (errs[w] ?? 0) + 1;
  }
  const windows: RecoveryWindow[] = [];
  for (let w = 0; w < n; w++) {
    const sorted = Float64Array.from(lat[w] ?? []).sort();
    const p50 = percentileSorted(sorted, 50);
    const r = reqs[w] ?? 0;
    const errorPct = r === 0 ? 0 : ((errs[w] ?? 0) / r) * 100;
    const good = sorted.length > 0 && p50 <= thresholdMs && errorPct <= opts.maxErrorPct;
    windows.push({ offsetMs: w * opts.windowMs, requests: r, p50, errorPct, good });
  }
  let run = 0;
  for (let w = 0; w < windows.length; w++) {
    run = windows[w]?.good === true ? run + 1 : 0;
    if (run >= opts.consecutive) {
      const first = w - opts.consecutive + 1;
      return { baselineP50, thresholdMs, recovered: true, recoveryMs: first * opts.windowMs, windows };
    }
  }
  return { baselineP50, thresholdMs, recovered: false, recoveryMs: null, windows };
}
