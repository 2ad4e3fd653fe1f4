import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AlertEvent } from '../metrics/alerts.js';
import type { AlertsView, MetricsView } from '../metrics/view.js';
import { renderScreen, sampleOf, stats, type MonitorSample } from './monitor-view.js';

const USAGE = `Usage: sutazai monitor [--url URL] [--interval SECONDS] [--export FILE.json] [--header "Name: value"]...

Live view of a SutazAI gateway's metrics and alerts, read from its public HTTP API
(GET /api/v1/metrics, GET /api/v1/alerts). Ctrl+C stops; with --export the sampled history,
alert events and statistics are written as JSON on exit.

  --url       gateway base URL (default http://127.0.0.1:10010)
  --interval  seconds between polls (default 2, minimum 0.2)
  --export    file to write the history to on exit
  --header    extra request header (repeatable), e.g. for an admin key
  --max-samples  history kept in memory and exported (default 10000)
`;

export interface MonitorOptions {
  url: string;
  intervalS: number;
  exportFile?: string;
  headers: Record<string, string>;
  maxSamples: number;
}

export function parseMonitorArgs(argv: string[]): MonitorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:10010' },
      interval: { type: 'string', default: '2' },
      export: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      'max-samples': { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageError('');
  const url = values.url.replace(/\/+$/, '');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`--url: "${values.url}" is not an http(s) URL`);
  }
  const intervalS = Number(values.interval);
  if (!Number.isFinite(intervalS) || intervalS < 0.2)
    throw new UsageError('--interval: a number ≥ 0.2 (seconds)');
  const maxSamples = Number(values['max-samples']);
  if (!Number.isInteger(maxSamples) || maxSamples < 1)
    throw new UsageError('--max-samples: a positive integer');
  const headers: Record<string, string> = {};
  for (const h of values.header) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header: expected "Name: value", got "${h}"`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return {
    url,
    intervalS,
    ...(values.export !== undefined ? { exportFile: values.export } : {}),
    headers,
    maxSamples,
  };
}

class UsageError extends Error {}

async function getJson<T>(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${new URL(url).pathname} answered HTTP ${res.status}`);
  return JSON.parse(text) as T;
}

/** The export file: sampled history, alert events seen, and statistics over the history. */
export function buildExport(
  opts: MonitorOptions,
  samples: readonly MonitorSample[],
  events: readonly AlertEvent[],
) {
  const reachable = samples.filter((s) => s.reachable).length;
  return {
    export_time: new Date().toISOString(),
    url: opts.url,
    interval_s: opts.intervalS,
    samples,
    alerts: events,
    statistics: {
      samples: samples.length,
      availability: samples.length ? Math.round((reachable / samples.length) * 10000) / 10000 : null,
      probe_ms: stats(samples, 'probe_ms'),
      rps: stats(samples, 'rps'),
      p95_ms: stats(samples, 'p95_ms'),
      p99_ms: stats(samples, 'p99_ms'),
      error_rate: stats(samples, 'error_rate'),
      cache_hit_rate: stats(samples, 'cache_hit_rate'),
      cpu_percent: stats(samples, 'cpu_percent'),
      memory_percent: stats(samples, 'memory_percent'),
      event_loop_lag_p99_ms: stats(samples, 'event_loop_lag_p99_ms'),
    },
  };
}

/**
 * `sutazai monitor`: poll, redraw, repeat until SIGINT/SIGTERM; then restore the terminal and
 * write the export. Resolves with the exit code (0, 1 when the export could not be written,
 * 2 on bad arguments).
 */
export async function runMonitorCli(argv: string[]): Promise<number> {
  let opts: MonitorOptions;
  try {
    opts = parseMonitorArgs(argv);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${msg ? `sutazai monitor: ${msg}\n\n` : ''}${USAGE}`);
    return msg ? 2 : 0;
  }
  const out = process.stdout;
  const tty = out.isTTY;
  const samples: MonitorSample[] = [];
  const events: AlertEvent[] = [];
  const seen = new Set<string>();
  let view: MetricsView | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  const quit = new AbortController();
  const stop = () => {
    stopping = true;
    quit.abort();
    wake?.();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (tty) out.write('\x1b[?1049h\x1b[?25l');
  const timeoutMs = Math.max(1000, Math.min(5000, opts.intervalS * 1000));

  try {
    while (!stopping) {
      const t0 = performance.now();
      const signal = AbortSignal.any([quit.signal, AbortSignal.timeout(timeoutMs)]);
      try {
        const [v, a] = await Promise.all([
          getJson<MetricsView>(`${opts.url}/api/v1/metrics`, opts.headers, signal),
          getJson<AlertsView>(`${opts.url}/api/v1/alerts`, opts.headers, signal),
        ]);
        view = v;
        samples.push(sampleOf(v, performance.now() - t0));
        for (const e of [...a.history].reverse()) {
          const id = `${e.at}|${e.key}|${e.kind}`;
          if (seen.has(id)) continue;
          seen.add(id);
          events.unshift(e);
        }
      } catch (err) {
        if (stopping) break;
        const cause = (err as Error & { cause?: Error }).cause;
        const msg = cause?.message ?? (err as Error).message;
        view = undefined;
        samples.push(sampleOf(undefined, -1, msg));
      }
      if (samples.length > opts.maxSamples) samples.shift();
      if (events.length > 1000) events.pop();
      const last = samples.at(-1);
      if (tty) {
        const screen = renderScreen({
          url: opts.url,
          intervalS: opts.intervalS,
          ...(opts.exportFile ? { exportFile: opts.exportFile } : {}),
          ...(view ? { view } : {}),
          samples,
          events,
          color: true,
        });
        out.write(`\x1b[H\x1b[2J${screen}\n`);
      } else if (last) {
        out.write(
          `${last.time} ${last.status} rps=${last.rps ?? '-'} p95=${last.p95_ms ?? '-'}ms err=${last.error_rate ?? '-'} alerts=${last.alerts_active ?? '-'}${last.error ? ` error=${last.error}` : ''}\n`,
        );
      }
      const waitMs = opts.intervalS * 1000 - (performance.now() - t0);
      if (!stopping && waitMs > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) out.write('\x1b[?25h\x1b[?1049l');
  }

  if (opts.exportFile) {
    try {
      await writeFile(opts.exportFile, `${JSON.stringify(buildExport(opts, samples, events), null, 2)}\n`);
      process.stderr.write(`sutazai monitor: ${samples.length} samples written to ${opts.exportFile}\n`);
    } catch (err) {
      process.stderr.write(
        `sutazai monitor: could not write ${opts.exportFile}: ${(err as Error).message}\n`,
      );
      return 1;
    }
  }
  return 0;
}
