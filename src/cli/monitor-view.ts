import type { AlertEvent } from '../metrics/alerts.js';
import type { MetricsView, TrafficFigures } from '../metrics/view.js';

/** One poll of the gateway, as kept in the monitor's history and its JSON export. */
export interface MonitorSample {
  time: string;
  reachable: boolean;
  error?: string;
  /** How long GET /api/v1/metrics took, ms (−1 when it failed). */
  probe_ms: number;
  status: MetricsView['status'] | 'unreachable';
  rps: number | null;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  cache_hit_rate: number | null;
  tokens_per_s: number | null;
  queue_depth: number | null;
  cpu_percent: number | null;
  host_cpu_percent: number | null;
  memory_percent: number | null;
  rss_mb: number | null;
  event_loop_lag_p99_ms: number | null;
  upstreams_down: number | null;
  alerts_active: number | null;
}

export interface ScreenState {
  url: string;
  intervalS: number;
  exportFile?: string;
  view?: MetricsView;
  samples: readonly MonitorSample[];
  events: readonly AlertEvent[];
  color: boolean;
}

const SPARK = '▁▂▃▄▅▆▇█';

export function sampleOf(view: MetricsView | undefined, probeMs: number, error?: string): MonitorSample {
  const time = new Date().toISOString();
  if (!view) {
    return {
      time,
      reachable: false,
      ...(error !== undefined ? { error } : {}),
      probe_ms: -1,
      status: 'unreachable',
      rps: null,
      error_rate: null,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
      cache_hit_rate: null,
      tokens_per_s: null,
      queue_depth: null,
      cpu_percent: null,
      host_cpu_percent: null,
      memory_percent: null,
      rss_mb: null,
      event_loop_lag_p99_ms: null,
      upstreams_down: null,
      alerts_active: null,
    };
  }
  const w = view.traffic.windows['10s'];
  const m = view.traffic.windows['1m'];
  const depth = view.queue?.depth;
  return {
    time,
    reachable: true,
    probe_ms: Math.round(probeMs * 100) / 100,
    status: view.status,
    rps: w.rps,
    error_rate: w.error_rate,
    p50_ms: w.p50_ms,
    p95_ms: w.p95_ms,
    p99_ms: w.p99_ms,
    cache_hit_rate: m.cache.hit_rate,
    tokens_per_s: w.tokens_per_s,
    queue_depth: typeof depth === 'number' ? depth : null,
    cpu_percent: view.system.cpu_percent,
    host_cpu_percent: view.system.host_cpu_percent,
    memory_percent: view.system.memory.percent,
    rss_mb: Math.round(view.system.memory.rss_bytes / 1048576),
    event_loop_lag_p99_ms: view.system.event_loop.lag_p99_ms,
    upstreams_down: view.upstreams.filter((u) => u.status === 'unhealthy').length,
    alerts_active: view.alerts.active.length,
  };
}

/** avg/min/max over the non-null values of one field. */
export function stats(samples: readonly MonitorSample[], key: keyof MonitorSample) {
  const v = samples.map((s) => s[key]).filter((x): x is number => typeof x === 'number' && x >= 0);
  if (!v.length) return { avg: null, min: null, max: null, samples: 0 };
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    avg: r(v.reduce((a, b) => a + b, 0) / v.length),
    min: r(Math.min(...v)),
    max: r(Math.max(...v)),
    samples: v.length,
  };
}

function paint(on: boolean) {
  const c = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: c('31'), yellow: c('33'), green: c('32'), bold: c('1'), dim: c('2') };
}

const num = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '–' : v.toFixed(d));
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v.toFixed(1)}ms`);
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : `${(v * 100).toFixed(2)}%`;

function spark(values: ReadonlyArray<number | null>): string {
  const v = values.map((x) => x ?? 0);
  const max = Math.max(...v, 1e-9);
  return v.map((x) => SPARK[Math.min(7, Math.floor((x / max) * 7.999))] ?? ' ').join('');
}

/** The full-screen text frame. */
export function renderScreen(s: ScreenState): string {
  const p = paint(s.color);
  const bar = (percent: number) => {
    const n = Math.max(0, Math.min(20, Math.round(percent / 5)));
    const b = '█'.repeat(n) + '░'.repeat(20 - n);
    return percent > 80 ? p.red(b) : percent > 60 ? p.yellow(b) : p.green(b);
  };
  const last = s.samples.at(-1);
  const status = last?.status ?? 'unreachable';
  const badge =
    status === 'critical' || status === 'unreachable'
      ? p.red(status.toUpperCase())
      : status === 'warning'
        ? p.yellow('WARNING')
        : p.green('OK');
  const out: string[] = [];
  out.push(
    `${p.bold('SutazAI monitor')}  ${s.url}  ${new Date().toLocaleTimeString()}  every ${s.intervalS}s  ${badge}`,
  );
  const v = s.view;
  if (!last?.reachable || !v) {
    out.push('', p.red(`gateway unreachable: ${last?.error ?? 'no answer yet'}`));
  } else {
    const sys = v.system;
    out.push('', p.bold('System'));
    out.push(
      `  CPU process ${num(sys.cpu_percent)}%  host ${bar(sys.host_cpu_percent)} ${num(sys.host_cpu_percent)}%`,
    );
    out.push(
      `  Memory host ${bar(sys.memory.percent)} ${num(sys.memory.percent)}%  rss ${Math.round(sys.memory.rss_bytes / 1048576)} MB`,
    );
    out.push(
      `  Event loop lag p99 ${ms(sys.event_loop.lag_p99_ms)}  utilisation ${num(sys.event_loop.utilization * 100)}%  ${v.scope === 'cluster' ? `${v.processes.length} processes` : '1 process'}`,
    );
    out.push('', p.bold('Traffic') + p.dim(`  (monitoring polls excluded)`));
    out.push('  window     requests      rps    err%      p50      p95      p99   hit%   tok/s');
    const row = (name: string, w: TrafficFigures) =>
      `  ${name.padEnd(8)} ${String(w.requests).padStart(9)} ${num(w.rps).padStart(8)} ${pct(w.error_rate).padStart(7)} ${ms(w.p50_ms).padStart(8)} ${ms(w.p95_ms).padStart(8)} ${ms(w.p99_ms).padStart(8)} ${pct(w.cache.hit_rate).padStart(6)} ${num(w.tokens_per_s).padStart(7)}`;
    for (const [name, w] of Object.entries(v.traffic.windows)) out.push(row(name, w));
    const l = v.traffic.last_100;
    out.push(
      `  last ${String(l.requests).padEnd(3)} ${''.padStart(18)} ${pct(l.error_rate).padStart(7)} ${ms(l.p50_ms).padStart(8)} ${ms(l.p95_ms).padStart(8)} ${ms(l.p99_ms).padStart(8)}`,
    );
    out.push('', p.bold('Upstreams'));
    for (const u of v.upstreams) {
      const st = u.status === 'healthy' ? p.green(u.status) : p.red(u.status);
      out.push(
        `  ${u.id.padEnd(32)} ${st.padEnd(s.color ? 18 : 9)} probe ${ms(u.probe_latency_ms)}  in flight ${u.in_flight}  calls/1m ${u.last_1m.requests}  errors/1m ${u.last_1m.errors}${u.error ? p.dim(`  ${u.error}`) : ''}`,
      );
    }
    const q = v.queue;
    if (q && typeof q.depth === 'number')
      out.push(`  queue depth ${q.depth}  active ${String(q.active)}  failed ${String(q.failed)}`);
    out.push('', p.bold(`Alerts (${v.alerts.active.length} active)`));
    for (const a of v.alerts.active)
      out.push(`  ${a.severity === 'critical' ? p.red('CRITICAL') : p.yellow('WARNING ')} ${a.message}`);
  }
  const recent = s.events.slice(0, 5);
  if (recent.length) {
    out.push(p.dim('  recent events:'));
    for (const e of recent) out.push(p.dim(`    ${e.at.slice(11, 19)} ${e.kind} ${e.to}: ${e.message}`));
  }
  const hist = s.samples.slice(-60);
  out.push('', p.bold(`History (last ${hist.length} samples)`));
  out.push(`  rps ${spark(hist.map((x) => x.rps))}`);
  out.push(`  p95 ${spark(hist.map((x) => x.p95_ms))}`);
  const st = stats(hist, 'p95_ms');
  out.push(
    `  p95 avg ${ms(st.avg)} min ${ms(st.min)} max ${ms(st.max)}   probe ${ms(last?.probe_ms ?? null)}`,
  );
  out.push('', p.dim(`Ctrl+C to stop${s.exportFile ? `; history is written to ${s.exportFile}` : ''}`));
  return out.join('\n');
}
