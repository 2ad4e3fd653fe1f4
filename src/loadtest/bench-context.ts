import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Report } from './report.js';

/**
 * What every table of docs/performance.md states next to it: the commit measured, the upstream
 * and its settings, the gateway's settings, and how busy the machine was before and after.
 */

/** The simulator's settings, passed explicitly so the document's statement is true by construction. */
export const SIM_SETTINGS: Readonly<Record<'tps' | 'ttftMs' | 'parallel' | 'maxQueue' | 'tokens', number>> = {
  tps: 0,
  ttftMs: 0,
  parallel: 4,
  maxQueue: 512,
  tokens: 24,
};

export function simArgs(model: string): string[] {
  const s = SIM_SETTINGS;
  return [
    '--models',
    model,
    '--tps',
    String(s.tps),
    '--ttft-ms',
    String(s.ttftMs),
    '--parallel',
    String(s.parallel),
    '--max-queue',
    String(s.maxQueue),
    '--tokens',
    String(s.tokens),
  ];
}

export function upstreamLine(): string {
  const s = SIM_SETTINGS;
  return (
    `Upstream: the simulator (\`sutazai sim\`) on the same machine — ${s.tps === 0 ? 'tokens as fast as possible (--tps 0)' : `${s.tps} tokens/s`}, ` +
    `TTFT ${s.ttftMs} ms, ${s.parallel} slots (--parallel), queue ${s.maxQueue}, ${s.tokens} tokens per answer. ` +
    'Real models are 100-1000× slower: these figures are what the gateway adds, not what users wait.'
  );
}

/** `abc1234`, `abc1234 + uncommitted changes`, or `unknown` outside a git checkout. */
export function commitOf(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export interface StepContext {
  /** Load average (1 min) before and after the step. */
  loadBefore: number;
  loadAfter: number;
  /** What answered: e.g. "gateway, 1 process, default settings". */
  target: string;
}

export const load1 = (): number => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

export function contextLine(c: StepContext | undefined, commit: string): string {
  if (c === undefined) return `Commit ${commit}.`;
  return `Commit ${commit}; ${c.target}; load average ${c.loadBefore} before, ${c.loadAfter} after (${os.availableParallelism()} cores).`;
}

/** One round of the 1-vs-2-processes comparison. */
export interface ProcessRound {
  one: Report;
  two: Report;
}

const med = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
};

/** The 1 vs 2 processes table: each round's figures side by side and the median ratio. */
export function renderProcessRounds(
  rounds: readonly ProcessRound[],
  f: (v: number | undefined, d?: number) => string,
): string[] {
  if (rounds.length === 0)
    return [
      '_Not run: `--processes 2` needs DATABASE_URL in the environment of `npm run bench:report` (the embedded store opens in one process only)._',
      '',
    ];
  const out = [
    '| round | 1 process ok/s | p50 ms | p99 ms | 2 processes ok/s | p50 ms | p99 ms | 2 / 1 |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const ratios: number[] = [];
  rounds.forEach((r, i) => {
    const a = r.one.stages[0]?.stats;
    const b = r.two.stages[0]?.stats;
    if (!a || !b) return;
    const ratio = b.okRps / a.okRps;
    ratios.push(ratio);
    out.push(
      `| ${i + 1} | ${f(a.okRps)} | ${f(a.latency.p50, 1)} | ${f(a.latency.p99, 1)} | ${f(b.okRps)} | ${f(b.latency.p50, 1)} | ${f(b.latency.p99, 1)} | ${f(ratio, 2)} |`,
    );
  });
  out.push(
    '',
    `Median ratio 2 processes / 1 process: **${f(med(ratios), 2)}** (spread ${f(Math.min(...ratios), 2)}–${f(Math.max(...ratios), 2)}). ` +
      'On a 2-core machine the load generator, the simulator and the gateway share the cores, so a second gateway process only helps as far as a core is idle; the same comparison with the exact C client is `node bench/processes.mjs`.',
    '',
  );
  return out;
}
