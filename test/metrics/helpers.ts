import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FieldName } from '../../src/config/fields.js';
import type { AlertsView, MetricsView } from '../../src/metrics/view.js';
import type { SimOptions } from '../../src/sim/types.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parsePrometheusText, type Family } from './prom-text.js';

/** A simulator + gateway with its own data directory (the task store's PGlite lives there). */
export async function startMetricsStack(
  opts: { sim?: Partial<SimOptions>; gateway?: Partial<Record<FieldName, unknown>> } = {},
): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-metrics-'));
  const stack = await startStack({
    ...(opts.sim ? { sim: opts.sim } : {}),
    gateway: { dataDir, taskConcurrency: 0, ...opts.gateway },
  });
  return {
    ...stack,
    async close() {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parsePrometheusText(await res.text());
}

export async function metricsView(url: string, query = ''): Promise<MetricsView> {
  const res = await fetch(`${url}/api/v1/metrics${query}`);
  if (res.status !== 200) throw new Error(`/api/v1/metrics answered ${res.status}`);
  return (await res.json()) as MetricsView;
}

export async function alertsView(url: string): Promise<AlertsView> {
  const res = await fetch(`${url}/api/v1/alerts`);
  if (res.status !== 200) throw new Error(`/api/v1/alerts answered ${res.status}`);
  return (await res.json()) as AlertsView;
}

/** Poll until `fn` returns a value (not undefined); for figures that settle asynchronously. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  ms = 15_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
