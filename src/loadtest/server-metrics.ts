import { Client } from 'undici';

/** One reading of the server's own metrics API. */
export interface ServerSample {
  /** Seconds from the start of polling. */
  t: number;
  /** Resident memory of the server process, MB; NaN when the payload had none. */
  memoryMb: number;
}

export interface ServerMetricsSeries {
  /** Path that answered, or null when the server exposes no metrics API (then `note` says why). */
  path: string | null;
  note?: string;
  samples: ServerSample[];
  /** First and last raw payloads, for comparing the server's own percentiles with ours. */
  first?: unknown;
  last?: unknown;
}

export interface ServerMetricsOptions {
  /** Origin, e.g. http://127.0.0.1:10010 */
  origin: string;
  basePath: string;
  /** Tried in order until one answers 200 with JSON. */
  paths: string[];
  intervalMs: number;
  headers: Record<string, string>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function findNumber(
  v: unknown,
  test: (path: string) => boolean,
  path = '',
  depth = 0,
): { path: string; value: number } | undefined {
  if (!isRecord(v) || depth > 5) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const p = path === '' ? k : `${path}.${k}`;
    if (typeof x === 'number' && Number.isFinite(x) && test(p.toLowerCase())) return { path: p, value: x };
  }
  for (const [k, x] of Object.entries(v)) {
    const found = findNumber(x, test, path === '' ? k : `${path}.${k}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The metrics API's shape is the server's business, so memory is found by name: the first
 * numeric field whose path mentions rss (else heap used, else memory used). Fields named in
 * MB/KB are taken as such; other values above 1e5 are taken as bytes.
 */
export function extractMemoryMb(payload: unknown): number {
  const found =
    findNumber(payload, (p) => /rss/.test(p) && !/(percent|pct|ratio)/.test(p)) ??
    findNumber(payload, (p) => /heap_?used/.test(p)) ??
    findNumber(payload, (p) => /mem(ory)?[._]?(used|mb|bytes)/.test(p));
  if (found === undefined) return Number.NaN;
  const p = found.path.toLowerCase();
  if (/mb|mib|megabytes/.test(p)) return found.value;
  if (/kb|kib/.test(p)) return found.value / 1024;
  return found.value > 1e5 ? found.value / (1024 * 1024) : found.value;
}

/** Poll the server's metrics API on its own connection (so load does not starve the poller). */
export function startServerMetrics(opts: ServerMetricsOptions): {
  /** Samples read so far (live view). */
  current(): ServerMetricsSeries;
  stop(): Promise<ServerMetricsSeries>;
} {
  const client = new Client(opts.origin, { headersTimeout: 5000, bodyTimeout: 5000, pipelining: 1 });
  const series: ServerMetricsSeries = { path: null, samples: [] };
  const t0 = Date.now();
  let candidates = [...opts.paths];
  let busy: Promise<void> = Promise.resolve();
  let failures = 0;

  async function fetchJson(path: string): Promise<unknown> {
    const res = await client.request({
      method: 'GET',
      path: opts.basePath + path,
      headers: { accept: 'application/json', ...opts.headers },
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return JSON.parse(text) as unknown;
  }

  async function poll(): Promise<void> {
    const tries = series.path !== null ? [series.path] : candidates;
    for (const path of tries) {
      try {
        const json = await fetchJson(path);
        series.path = path;
        series.first ??= json;
        series.last = json;
        series.samples.push({ t: (Date.now() - t0) / 1000, memoryMb: extractMemoryMb(json) });
        return;
      } catch (err) {
        if (series.path === null) candidates = candidates.filter((c) => c !== path);
        failures++;
        series.note = `metrics API ${path}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }

  const run = (): void => {
    if (series.path === null && candidates.length === 0) return;
    busy = busy.then(poll);
  };
  run();
  const timer = setInterval(run, opts.intervalMs);
  return {
    current: () => series,
    async stop() {
      clearInterval(timer);
      run();
      await busy;
      await client.close();
      if (series.path !== null && failures === 0) delete series.note;
      return series;
    },
  };
}
