import type { Tick } from './engine.js';
import { summarize } from './stats.js';

export interface Progress {
  tick(label: string, t: Tick): void;
  /** End the live line (call before printing anything else). */
  done(): void;
}

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
}

function ms(v: number): string {
  return Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : '-';
}

/**
 * A live status line (rewritten in place on a terminal; one line every 5 s otherwise), including
 * the generator's own CPU so a saturated load generator is visible while it runs.
 */
export function createProgress(out: Out, enabled: boolean): Progress {
  let live = false;
  let cpu0 = process.cpuUsage();
  let wall0 = process.hrtime.bigint();
  let n = 0;
  return {
    tick(label, t) {
      if (!enabled) return;
      const cpu = process.cpuUsage(cpu0);
      const wall = Number(process.hrtime.bigint() - wall0) / 1e6;
      cpu0 = process.cpuUsage();
      wall0 = process.hrtime.bigint();
      const cpuPct = ((cpu.user + cpu.system) / 1000 / Math.max(1, wall)) * 100;
      const s = summarize(t.latencies);
      const rps = (t.done / Math.max(1, wall)) * 1000;
      const err = t.done === 0 ? 0 : (t.errors / t.done) * 100;
      const line =
        `[${label}] ${(t.elapsedMs / 1000).toFixed(0)}s  ${rps.toFixed(0)} req/s  p50 ${ms(s.p50)} p99 ${ms(s.p99)} ms  ` +
        `err ${err.toFixed(1)}%  in-flight ${t.inflight}  queued ${t.queued}  gen-cpu ${cpuPct.toFixed(0)}%`;
      if (out.isTTY === true) {
        out.write(`\r\x1b[2K${line}`);
        live = true;
      } else if (n++ % 5 === 0) {
        out.write(`${line}\n`);
      }
    },
    done() {
      if (live) out.write('\n');
      live = false;
    },
  };
}
