import type { Report } from './report.js';

function f(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return '-';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

/** Render rows as an aligned plain-text table (first row = header; numbers right-aligned). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return /^[-+]?[\d.]+%?$|^-$/.test(c) ? c.padStart(w) : c.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  if (head === undefined) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function topErrors(byKind: Record<string, number>): string {
  const e = Object.entries(byKind).sort((a, b) => b[1] - a[1]);
  if (e.length === 0) return '';
  return e
    .slice(0, 3)
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
}

/** The terminal summary printed at the end of every run. */
export function renderSummary(r: Report): string {
  const out: string[] = [];
  out.push(
    `sutazai loadtest ${r.scenario} — ${String(r.config.url)} (${String(r.config.target)}, ${String(r.config.loop)} loop, mix ${String(r.config.mix)})`,
  );
  out.push('latency = successful requests only, exact percentiles (nearest rank) in ms');
  out.push('');
  const rows: string[][] = [
    [
      'stage',
      'load',
      'reqs',
      'ok/s',
      'p50',
      'p95',
      'p99',
      'max',
      'err%',
      'errors',
      'tok/s',
      'ttft50',
      'gen-cpu%',
      'slo',
    ],
  ];
  for (const s of r.stages) {
    const st = s.stats;
    rows.push([
      s.name,
      `${s.load}`,
      `${st.requests}`,
      f(st.okRps),
      f(st.latency.p50),
      f(st.latency.p95),
      f(st.latency.p99),
      f(st.latency.max),
      f(st.errorRatePct, 2),
      topErrors(st.errorsByKind),
      f(st.tokensPerSec),
      f(st.ttft.p50),
      s.generator === undefined ? '-' : f(s.generator.cpuPct, 0),
      s.slo === undefined ? '' : s.slo.pass ? 'PASS' : 'FAIL',
    ]);
  }
  out.push(table(rows));
  const conn = r.stages.find((s) => s.connect !== undefined && s.connect.opened > 0)?.connect;
  if (conn !== undefined) {
    const all = r.stages.reduce((a, s) => a + (s.connect?.opened ?? 0), 0);
    out.push(
      `\nconnections pre-opened: ${all} (first batch ${conn.opened} in ${f(conn.elapsedMs)} ms; connect p50 ${f(conn.connect.p50)} ms, max ${f(conn.connect.max)} ms)`,
    );
  }
  if (r.spike !== undefined) {
    const s = r.spike;
    out.push(
      `\nspike: baseline p50 ${f(s.baselineP50)} ms; recovered = consecutive windows with p50 <= ${f(s.thresholdMs)} ms: ` +
        (s.recovered
          ? `${f((s.recoveryMs ?? 0) / 1000, 2)} s after the spike ended`
          : 'NOT recovered before the end of the run'),
    );
  }
  if (r.endurance !== undefined) {
    const e = r.endurance;
    out.push(
      `\nendurance: p50 drift ${f(e.driftP50Pct)}%, p99 drift ${f(e.driftP99Pct)}% (first vs last window)`,
    );
    out.push(
      Number.isFinite(e.memoryStartMb)
        ? `server memory: ${f(e.memoryStartMb)} → ${f(e.memoryEndMb)} MB (max ${f(e.memoryMaxMb)}), trend ${f(e.memorySlopeMbPerMin, 2)} MB/min`
        : `server memory: not available (${r.server.note ?? 'no metrics API'})`,
    );
  }
  if (r.overhead !== undefined && r.overhead.length > 0) {
    const oh: string[][] = [
      [
        'conc',
        'gw p50',
        'gw p99',
        'direct p50',
        'direct p99',
        '+p50',
        '+p99',
        'gw ok/s',
        'direct ok/s',
        'ratio',
      ],
    ];
    for (const o of r.overhead) {
      oh.push([
        `${o.concurrency}`,
        f(o.gateway.latency.p50, 2),
        f(o.gateway.latency.p99, 2),
        f(o.direct.latency.p50, 2),
        f(o.direct.latency.p99, 2),
        f(o.addedP50Ms, 2),
        f(o.addedP99Ms, 2),
        f(o.gateway.okRps),
        f(o.direct.okRps),
        f(o.throughputRatio, 2),
      ]);
    }
    out.push(`\noverhead (gateway minus direct upstream):\n${table(oh)}`);
  }
  if (Object.keys(r.errorDetails).length > 0) {
    out.push('\nerror examples:');
    for (const [k, list] of Object.entries(r.errorDetails))
      for (const d of list.slice(0, 2)) out.push(`  ${k}: ${d}`);
  }
  for (const w of r.warnings) out.push(`WARNING: ${w}`);
  if (r.slo.enabled) {
    const failed = r.slo.checks.filter((c) => !c.pass);
    out.push(
      `\nSLO ${r.slo.pass ? 'PASS' : 'FAIL'}` +
        (failed.length === 0
          ? ''
          : `: ${failed.map((c) => `${c.name} ${f(c.actual, 2)} (limit < ${f(c.limit, 2)})`).join('; ')}`),
    );
  } else {
    out.push('\nSLO not evaluated (--no-slo)');
  }
  if (r.interrupted) out.push('(interrupted: partial results)');
  return out.join('\n');
}
